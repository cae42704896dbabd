package records

import (
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/avro"
)

// Record is one of the pipeline's record types.
type Record interface {
	SchemaName() string
	headers() map[string]string
	toNative() (map[string]any, error)
	fromNative(map[string]any) error
}

// Codec converts records to and from Avro single-object encoding and Kafka
// messages. It is immutable and safe for concurrent use.
type Codec struct {
	reg *avro.Registry
	// fastSnotiEvent: the current SnotiEvent schema is the one
	// appendSnotiEventV1 writes.
	fastSnotiEvent bool
}

// NewCodec compiles every embedded schema version.
func NewCodec() (*Codec, error) {
	reg, err := avro.New()
	if err != nil {
		return nil, err
	}
	cur, err := reg.Current("SnotiEvent")
	if err != nil {
		return nil, err
	}
	return &Codec{reg: reg, fastSnotiEvent: cur.Fingerprint == snotiEventV1Fingerprint}, nil
}

// Registry exposes the underlying schema registry (for tools that render
// any record as JSON).
func (c *Codec) Registry() *avro.Registry { return c.reg }

// Marshal encodes r with the current version of its schema.
func (c *Codec) Marshal(r Record) ([]byte, error) {
	if e, ok := r.(*SnotiEvent); ok && c.fastSnotiEvent {
		return appendSnotiEventV1(make([]byte, 0, 256+len(e.RawJSON)+len(e.Raw)), snotiEventV1Fingerprint, e)
	}
	n, err := r.toNative()
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", r.SchemaName(), err)
	}
	return c.reg.Encode(nil, r.SchemaName(), n)
}

// Unmarshal decodes b, written with any version of r's schema, into r.
func (c *Codec) Unmarshal(b []byte, r Record) error {
	s, n, err := c.reg.Decode(b)
	if err != nil {
		return err
	}
	if s.Name != r.SchemaName() {
		return fmt.Errorf("decoding %s: record is a %s", r.SchemaName(), s)
	}
	if err := r.fromNative(n); err != nil {
		return fmt.Errorf("decoding %s: %w", s, err)
	}
	return nil
}

// Message builds a Kafka message for r with the standard headers
// (event_type, product_key, event_id, schema) and the given key.
func (c *Codec) Message(topic string, key []byte, r Record) (kafka.Message, error) {
	v, err := c.Marshal(r)
	if err != nil {
		return kafka.Message{}, err
	}
	cur, _ := c.reg.Current(r.SchemaName())
	h := r.headers()
	headers := make([]kafka.Header, 0, len(h)+1)
	for _, k := range []string{"event_type", "product_key", "event_id", "reason", "stage"} {
		if val, ok := h[k]; ok && val != "" {
			headers = append(headers, kafka.Header{Key: k, Value: []byte(val)})
		}
	}
	headers = append(headers, kafka.Header{Key: "schema", Value: []byte(cur.String())})
	return kafka.Message{Topic: topic, Key: key, Value: v, Headers: headers}, nil
}

// Header returns the value of the named header of m, or "".
func Header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
