package records

import (
	"encoding/binary"
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
	// appendSnotiEventV1 writes; fastTelemetry likewise for
	// appendDeviceTelemetryV1.
	fastSnotiEvent, fastTelemetry bool
	// schemaHeader: the "schema" header value of each record name.
	schemaHeader map[string][]byte
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
	tel, err := reg.Current("DeviceTelemetry")
	if err != nil {
		return nil, err
	}
	c := &Codec{reg: reg, fastSnotiEvent: cur.Fingerprint == snotiEventV1Fingerprint,
		fastTelemetry: tel.Fingerprint == deviceTelemetryV1Fingerprint, schemaHeader: map[string][]byte{}}
	for _, name := range reg.Names() {
		s, _ := reg.Current(name)
		c.schemaHeader[name] = []byte(s.String())
	}
	return c, nil
}

// Registry exposes the underlying schema registry (for tools that render
// any record as JSON).
func (c *Codec) Registry() *avro.Registry { return c.reg }

// Marshal encodes r with the current version of its schema.
func (c *Codec) Marshal(r Record) ([]byte, error) {
	if e, ok := r.(*SnotiEvent); ok && c.fastSnotiEvent {
		return appendSnotiEventV1(make([]byte, 0, 256+len(e.RawJSON)+len(e.Raw)), snotiEventV1Fingerprint, e)
	}
	if t, ok := r.(*DeviceTelemetry); ok && c.fastTelemetry {
		return appendDeviceTelemetryV1(make([]byte, 0, 128+len(t.EventID)+len(t.DID)+len(t.ProductKey)+24*len(t.Points)), deviceTelemetryV1Fingerprint, t)
	}
	n, err := r.toNative()
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", r.SchemaName(), err)
	}
	return c.reg.Encode(nil, r.SchemaName(), n)
}

// Unmarshal decodes b, written with any version of r's schema, into r.
func (c *Codec) Unmarshal(b []byte, r Record) error {
	if e, ok := r.(*SnotiEvent); ok && len(b) >= 10 && b[0] == 0xC3 && b[1] == 0x01 &&
		binary.LittleEndian.Uint64(b[2:10]) == snotiEventV1Fingerprint && decodeSnotiEventV1(b[10:], e) {
		return nil
	}
	return c.unmarshalGeneric(b, r)
}

// unmarshalGeneric is Unmarshal through goavro's native form: every schema
// version, every record type, and the fast paths' reference.
func (c *Codec) unmarshalGeneric(b []byte, r Record) error {
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
	var vals [len(headerKeys)]string
	switch t := r.(type) { // the per-event records, without a map
	case *DeviceTelemetry:
		vals = [len(headerKeys)]string{t.Source, t.ProductKey, t.EventID}
	case *SnotiEvent:
		vals = [len(headerKeys)]string{t.EventType, t.ProductKey, t.EventID}
	default:
		h := r.headers()
		for i, k := range headerKeys {
			vals[i] = h[k]
		}
	}
	// One buffer holds every header value.
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	headers := make([]kafka.Header, 0, len(vals)+1)
	for i, val := range vals {
		if val != "" {
			buf = append(buf, val...)
			headers = append(headers, kafka.Header{Key: headerKeys[i], Value: buf[len(buf)-len(val) : len(buf) : len(buf)]})
		}
	}
	// Shared by every message of the schema: nothing writes header values.
	headers = append(headers, kafka.Header{Key: "schema", Value: c.schemaHeader[r.SchemaName()]})
	return kafka.Message{Topic: topic, Key: key, Value: v, Headers: headers}, nil
}

// headerKeys are the standard headers, in the order Message writes them.
var headerKeys = [...]string{"event_type", "product_key", "event_id", "reason", "stage"}

// Header returns the value of the named header of m, or "".
func Header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
