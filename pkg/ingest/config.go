package ingest

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a Pipeline. The ingest service maps its environment
// onto it (TOPIC_EVENTS, INGEST_BATCH_SIZE, …); the library reads none.
type Config struct {
	// TopicEvents receives one records.SnotiEvent per push; TopicInvalid
	// the dead letters of lines that cannot be events.
	TopicEvents, TopicInvalid string
	// Protocol is the SNoti protocol the pushes arrive by (snoti.ProtocolV1
	// or V2), written in each record.
	Protocol string
	// BatchSize is the most records one Kafka write carries.
	BatchSize int
	// MaxUnacked is the most pushes SNoti may leave un-ACKed across every
	// connection feeding the pipeline (prefetch × connections): the queue
	// has room for all of them, so HandlePush never blocks.
	MaxUnacked int
	// RetryBackoffMax caps the delay between attempts to write a batch
	// Kafka refused; nothing is ACKed meanwhile.
	RetryBackoffMax time.Duration
	// MaxRecordBytes is the largest record the writer accepts (kafka-go's
	// Writer.BatchBytes); larger ones are quarantined before writing.
	// 0 is kafka-go's default, 8 MiB.
	MaxRecordBytes int
	// DrainTimeout bounds the shutdown: once Run's ctx ends, what the pipeline
	// holds is written and ACKed within DrainTimeout, the rest left un-ACKed.
	DrainTimeout time.Duration
}

// defaultMaxRecordBytes is kafka-go's per-record limit when the topics'
// max.message.bytes is not known (the writer's BatchBytes).
const defaultMaxRecordBytes = 8 << 20

// invalidQueue is how many invalid lines may wait for their write beyond
// the un-ACKed pushes; past it HandleInvalid blocks its connection.
const invalidQueue = 1024

// validate applies the defaults (MaxRecordBytes) and checks c; the errors
// name the field, the service's own validation names the variable.
func (c *Config) validate() error {
	var errs []error
	if c.TopicEvents == "" {
		errs = append(errs, errors.New("TopicEvents is empty"))
	}
	if c.TopicInvalid == "" {
		errs = append(errs, errors.New("TopicInvalid is empty"))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("BatchSize=%d: must be at least 1", c.BatchSize))
	}
	if c.MaxUnacked < 1 {
		errs = append(errs, fmt.Errorf("MaxUnacked=%d: must be at least 1 (prefetch × connections)", c.MaxUnacked))
	}
	if c.RetryBackoffMax <= 0 {
		errs = append(errs, fmt.Errorf("RetryBackoffMax=%s: must be positive", c.RetryBackoffMax))
	}
	if c.MaxRecordBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxRecordBytes=%d: must be 0 (kafka-go's default) or a size", c.MaxRecordBytes))
	}
	if c.DrainTimeout < 0 {
		errs = append(errs, fmt.Errorf("DrainTimeout=%s: must not be negative", c.DrainTimeout))
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = defaultMaxRecordBytes
	}
	return errors.Join(errs...)
}
