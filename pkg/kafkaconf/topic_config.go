package kafkaconf

import "github.com/snotibridge/snotibridge/pkg/topics"

// MaxMessageBytesKey is the topic setting bounding one record batch (after
// compression). Reading and setting topic configs is pkg/topics' work.
const MaxMessageBytesKey = topics.MaxMessageBytesKey
