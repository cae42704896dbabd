package records

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/snotibridge/snotibridge/pkg/avro"
)

// The Confluent wire format: magic byte 0, the writer schema's registry id
// (4 bytes, big-endian), then the bare Avro binary datum.
const (
	confluentMagic     = 0
	confluentHeaderLen = 5
	soeHeaderLen       = 10 // 0xC3 0x01 + 8-byte fingerprint
)

// resolveTimeout bounds fetching an unknown schema id from the registry
// while decoding (Unmarshal has no context).
const resolveTimeout = 10 * time.Second

// SchemaRegistry is what a Codec needs of a Confluent-compatible schema
// registry (pkg/schemaregistry's Client implements it).
type SchemaRegistry interface {
	// SchemaID returns the id registered for the current schema of the
	// record name under topic's subject, if one was registered.
	SchemaID(topic, name string) (int, bool)
	// SchemaText returns the schema with the id, from the registry.
	SchemaText(ctx context.Context, id int) (string, error)
}

// writerCache maps schema ids to compiled writer schemas: ids are
// immutable in a registry, so an entry never goes stale.
type writerCache struct {
	mu   sync.RWMutex
	byID map[int]*avro.WriterSchema
}

// WithSchemaRegistry returns a copy of c that writes, in Message and
// Batch.Message, the Confluent wire format to every topic for which sr has
// an id for the record's schema (other topics keep single-object
// encoding), and that reads records in either form, resolving unknown ids
// through sr and caching them. An id whose schema is none of the embedded
// versions (same canonical form) is refused like an unknown fingerprint;
// JSON still renders it.
func (c *Codec) WithSchemaRegistry(sr SchemaRegistry) *Codec {
	out := *c
	out.sr = sr
	out.writers = &writerCache{byID: map[int]*avro.WriterSchema{}}
	return &out
}

// frame rewrites the single-object-encoded record at buf[start:] in the
// Confluent wire format when the topic has a registered id for name.
func (c *Codec) frame(buf []byte, start int, topic, name string) []byte {
	if c.sr == nil || topic == "" {
		return buf
	}
	id, ok := c.sr.SchemaID(topic, name)
	if !ok {
		return buf
	}
	v := buf[start:]
	v[0] = confluentMagic
	binary.BigEndian.PutUint32(v[1:confluentHeaderLen], uint32(id))
	n := copy(v[confluentHeaderLen:], v[soeHeaderLen:])
	return buf[:start+confluentHeaderLen+n]
}

func (c *Codec) unmarshalConfluent(b []byte, r Record) error {
	id := int(binary.BigEndian.Uint32(b[1:confluentHeaderLen]))
	if c.sr == nil {
		return fmt.Errorf("decoding %s: record is in the Confluent wire format (schema id %d) but no schema registry is configured: set SCHEMA_REGISTRY_URL", r.SchemaName(), id)
	}
	w, err := c.writerSchema(id)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", r.SchemaName(), err)
	}
	if w.Name != r.SchemaName() {
		return fmt.Errorf("decoding %s: record is a %s (schema id %d)", r.SchemaName(), w.Schema, id)
	}
	if !w.Embedded {
		// goavro does not resolve a writer's schema against a reader's:
		// decoded with a foreign schema, a record would lose the fields it
		// lacks without a word. Refused, as an unknown fingerprint is.
		return fmt.Errorf("decoding %s: schema id %d is none of this program's schema versions: %w %016x", r.SchemaName(), id, avro.ErrUnknownSchema, w.Fingerprint)
	}
	body := b[confluentHeaderLen:]
	switch x := r.(type) {
	case *SnotiEvent:
		if w.Fingerprint == snotiEventV1Fingerprint && decodeSnotiEventV1(body, x) {
			return nil
		}
	case *DeviceTelemetry:
		if w.Fingerprint == deviceTelemetryV1Fingerprint && decodeDeviceTelemetryV1(body, x) {
			return nil
		}
	}
	n, err := c.reg.DecodeBody(w, body)
	if err != nil {
		return err
	}
	if err := r.fromNative(n); err != nil {
		return fmt.Errorf("decoding %s (schema id %d): %w", w.Schema, id, err)
	}
	return nil
}

// writerSchema returns the compiled schema of a registry id, fetching it
// on first use.
func (c *Codec) writerSchema(id int) (*avro.WriterSchema, error) {
	c.writers.mu.RLock()
	w, ok := c.writers.byID[id]
	c.writers.mu.RUnlock()
	if ok {
		return w, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	text, err := c.sr.SchemaText(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetching schema id %d from the schema registry: %w", id, err)
	}
	w, err = c.reg.WriterSchema(text)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	c.writers.mu.Lock()
	c.writers.byID[id] = w
	c.writers.mu.Unlock()
	return w, nil
}

// JSON renders an encoded record, in either format, as Avro JSON (unions
// tagged by type), for tools such as bridgectl tail.
func (c *Codec) JSON(b []byte) (avro.Schema, []byte, error) {
	if len(b) < confluentHeaderLen || b[0] != confluentMagic {
		return c.reg.JSON(b)
	}
	id := int(binary.BigEndian.Uint32(b[1:confluentHeaderLen]))
	if c.sr == nil {
		return avro.Schema{}, nil, fmt.Errorf("rendering record: it is in the Confluent wire format (schema id %d) but no schema registry is configured: set SCHEMA_REGISTRY_URL", id)
	}
	w, err := c.writerSchema(id)
	if err != nil {
		return avro.Schema{}, nil, fmt.Errorf("rendering record: %w", err)
	}
	js, err := c.reg.BodyJSON(w, b[confluentHeaderLen:])
	return w.Schema, js, err
}
