package devcodec

import "github.com/snotibridge/snotibridge/pkg/value"

// Message is one decoded payload: the kind the dispatch selected and its
// fields in spec order.
type Message struct {
	Name   string
	Fields []value.Field
}
