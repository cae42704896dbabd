package records

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/avro"
	"github.com/snotibridge/snotibridge/pkg/value"
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
	// sr, when set, frames what Message writes to a topic it registered
	// the record's schema for, and resolves the ids of framed records
	// (see WithSchemaRegistry).
	sr      SchemaRegistry
	writers *writerCache
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
		h := []byte(s.String())
		c.schemaHeader[name] = h[:len(h):len(h)] // capped: appending copies
	}
	return c, nil
}

// Registry exposes the underlying schema registry (for tools that render
// any record as JSON).
func (c *Codec) Registry() *avro.Registry { return c.reg }

// Marshal encodes r with the current version of its schema.
func (c *Codec) Marshal(r Record) ([]byte, error) {
	return c.appendValue(make([]byte, 0, sizeHint(r)), r)
}

// sizeHint is about the encoded size of r and its header values, so that
// one allocation holds them.
func sizeHint(r Record) int {
	switch t := r.(type) {
	case *SnotiEvent:
		return 256 + 2*(len(t.EventID)+len(t.ProductKey)+len(t.EventType)) + len(t.RawJSON) + len(t.Raw)
	case *DeviceTelemetry:
		return 128 + 2*(len(t.EventID)+len(t.ProductKey)+len(t.Source)) + len(t.DID) + 24*len(t.Points)
	}
	return 512
}

// appendValue appends r, encoded with the current version of its schema,
// to b.
func (c *Codec) appendValue(b []byte, r Record) ([]byte, error) {
	if e, ok := r.(*SnotiEvent); ok && c.fastSnotiEvent {
		return appendSnotiEventV1(b, snotiEventV1Fingerprint, e)
	}
	if t, ok := r.(*DeviceTelemetry); ok && c.fastTelemetry {
		return appendDeviceTelemetryV1(b, deviceTelemetryV1Fingerprint, t)
	}
	n, err := r.toNative()
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", r.SchemaName(), err)
	}
	return c.reg.Encode(b, r.SchemaName(), n)
}

// Unmarshal decodes b, written with any version of r's schema, into r:
// Avro single-object encoding, or the Confluent wire format when the codec
// has a schema registry (see WithSchemaRegistry).
func (c *Codec) Unmarshal(b []byte, r Record) error {
	if len(b) >= confluentHeaderLen && b[0] == confluentMagic {
		return c.unmarshalConfluent(b, r)
	}
	if len(b) >= 10 && b[0] == 0xC3 && b[1] == 0x01 {
		fp := binary.LittleEndian.Uint64(b[2:10])
		switch x := r.(type) {
		case *SnotiEvent:
			if fp == snotiEventV1Fingerprint && decodeSnotiEventV1(b[10:], x) {
				return nil
			}
		case *DeviceTelemetry:
			if fp == deviceTelemetryV1Fingerprint && decodeDeviceTelemetryV1(b[10:], x) {
				return nil
			}
		}
	}
	return c.unmarshalGeneric(b, r)
}

// UnmarshalSnotiEvent is Unmarshal of a SnotiEvent. Unlike Unmarshal it
// does not make e escape to the heap (goavro's path decodes into a copy),
// so a caller's local SnotiEvent costs no allocation.
func (c *Codec) UnmarshalSnotiEvent(b []byte, e *SnotiEvent) error {
	if len(b) >= 10 && b[0] == 0xC3 && b[1] == 0x01 && binary.LittleEndian.Uint64(b[2:10]) == snotiEventV1Fingerprint &&
		decodeSnotiEventV1(b[10:], e) {
		return nil
	}
	var x SnotiEvent
	err := c.unmarshalGeneric(b, &x)
	*e = x
	return err
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
	b := Batch{c: c, buf: make([]byte, 0, sizeHint(r)), headers: make([]kafka.Header, 0, len(headerKeys)+1)}
	return b.Message(topic, key, r)
}

// Batch builds the Kafka messages of many records with a few allocations
// shared by all: their values and header values are appended to a few
// large chunks, their headers to one slice. Each message's slices are
// capped, so appending to one never overwrites another. Not safe for
// concurrent use.
type Batch struct {
	c       *Codec
	buf     []byte // the current chunk
	headers []kafka.Header
	last    int // bytes the last message took in buf (value and header values)
	// expect is the records NewBatch was told of; count and used are the
	// messages built so far and their bytes in the chunks.
	expect, count, used int
}

// minChunk is the smallest chunk reserve starts.
const minChunk = 64 << 10

// reserve makes room in the current chunk for a message of about the last
// one's size (or n bytes, if more). When the chunk is short it starts a
// new one rather than let append grow it: the earlier messages keep their
// bytes where they are, so a batch never copies what it already holds
// (growing one buffer copied it at every doubling, a tenth of the
// decoder's CPU). The new chunk holds this message and the others
// NewBatch was told are still to come, at the average size so far (this
// one's, for the first); past them, it is at least the current one's size.
func (b *Batch) reserve(n int) {
	n = max(n, 2*b.last)
	if cap(b.buf)-len(b.buf) >= n {
		return
	}
	size := max(n, cap(b.buf), minChunk)
	if left := b.expect - b.count; left > 0 {
		// Sized on the records themselves: the ingest's are about 650
		// bytes, and a fixed minimum overshot a small batch's rest by
		// up to 64 KB, half the ingest's allocations at full speed.
		avg := n
		if b.count > 0 {
			avg = b.used / b.count
		}
		size = (left-1)*avg + n
	}
	b.buf = make([]byte, 0, size)
}

// NewBatch returns a Batch sized for about n records of a few hundred
// bytes; when they are larger, its further chunks are sized on those built
// so far.
func (c *Codec) NewBatch(n int) *Batch {
	return &Batch{c: c, buf: make([]byte, 0, 384*n), headers: make([]kafka.Header, 0, 4*n), expect: n}
}

// Message is Codec.Message, built in the batch's shared buffers.
func (b *Batch) Message(topic string, key []byte, r Record) (kafka.Message, error) {
	b.reserve(sizeHint(r))
	start := len(b.buf)
	buf, err := b.c.appendValue(b.buf, r)
	if err != nil {
		return kafka.Message{}, err
	}
	b.buf = buf
	return b.finish(topic, key, r, start), nil
}

// EventMessage is Message of e with rawJSON as its RawJSON; e.RawJSON must
// be empty. It spares copying each push's line into a string: the ingest's
// largest allocation per event after the line itself.
func (b *Batch) EventMessage(topic string, key []byte, e *SnotiEvent, rawJSON []byte) (kafka.Message, error) {
	if e.RawJSON != "" {
		return kafka.Message{}, errors.New("records: EventMessage of a SnotiEvent that has RawJSON")
	}
	if !b.c.fastSnotiEvent { // a newer schema: through the generic path
		u := *e
		u.RawJSON = string(rawJSON)
		return b.Message(topic, key, &u)
	}
	b.reserve(sizeHint(e) + len(rawJSON))
	start := len(b.buf)
	buf, err := appendSnotiEventV1Head(b.buf, snotiEventV1Fingerprint, e)
	if err != nil {
		return kafka.Message{}, err
	}
	b.buf = avroBytes(buf, rawJSON)
	return b.finish(topic, key, e, start), nil
}

// TelemetryMessage is Message of t with the points fields, each
// DataPoint{f.Name, f.Value.Any()}; t.Points must be empty. It spares
// boxing every value in an any, one allocation per point that the
// decoder would otherwise make for each event.
func (b *Batch) TelemetryMessage(topic string, key []byte, t *DeviceTelemetry, fields []value.Field) (kafka.Message, error) {
	if len(t.Points) > 0 {
		return kafka.Message{}, errors.New("records: TelemetryMessage of a DeviceTelemetry that has Points")
	}
	if !b.c.fastTelemetry { // a newer schema: through the generic path
		u := *t
		u.Points = make([]DataPoint, len(fields))
		for i, f := range fields {
			u.Points[i] = DataPoint{Name: f.Name, Value: f.Value.Any()}
		}
		return b.Message(topic, key, &u)
	}
	b.reserve(128 + len(t.EventID) + len(t.ProductKey) + len(t.DID) + len(t.MAC) + len(t.Source) + len(t.Codec) + len(t.Kind) + 24*len(fields))
	start := len(b.buf)
	b.buf = appendDeviceTelemetryV1Fields(b.buf, deviceTelemetryV1Fingerprint, t, fields)
	return b.finish(topic, key, t, start), nil
}

// finish builds the message of r, whose value is b.buf[start:].
// With a schema registry, a registered topic's value is framed in the
// Confluent wire format instead.
func (b *Batch) finish(topic string, key []byte, r Record, start int) kafka.Message {
	b.buf = b.c.frame(b.buf, start, topic, r.SchemaName())
	body := b.buf[start:len(b.buf):len(b.buf)]
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
	first := len(b.headers)
	for i, val := range vals {
		if val != "" {
			b.buf = append(b.buf, val...)
			b.headers = append(b.headers, kafka.Header{Key: headerKeys[i], Value: b.buf[len(b.buf)-len(val) : len(b.buf) : len(b.buf)]})
		}
	}
	// Shared by every message of the schema: nothing writes header values.
	b.headers = append(b.headers, kafka.Header{Key: "schema", Value: b.c.schemaHeader[r.SchemaName()]})
	headers := b.headers[first:len(b.headers):len(b.headers)]
	b.last = len(b.buf) - start
	b.count, b.used = b.count+1, b.used+b.last
	return kafka.Message{Topic: topic, Key: key, Value: body, Headers: headers}
}

// headerKeys are the standard headers, in the order Message writes them.
var headerKeys = [...]string{"event_type", "product_key", "event_id", "reason", "stage"}

// Header returns the value of the named header of m, or "".
func Header(m kafka.Message, key string) string {
	return string(HeaderBytes(m, key))
}

// HeaderBytes returns the value of the named header of m (the message's
// own bytes, not a copy), or nil. Unlike Header it allocates nothing: for
// the per-message checks of a header's value.
func HeaderBytes(m kafka.Message, key string) []byte {
	for _, h := range m.Headers {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}
