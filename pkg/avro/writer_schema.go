package avro

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// CurrentJSON returns the text of the version writers use for the record
// name: what a schema registry is given for that record's subjects.
func (r *Registry) CurrentJSON(name string) (string, error) {
	v, ok := r.current[name]
	if !ok {
		return "", fmt.Errorf("no schema named %q", name)
	}
	return v.json, nil
}

// WriterSchema is a schema that a record names by other means than its
// fingerprint (a schema registry id): one of the embedded versions when its
// canonical form is one of theirs, else a schema compiled from its text for
// decoding only. It is immutable and safe for concurrent use.
type WriterSchema struct {
	Schema
	// Embedded: the schema is one of the embedded versions (Schema.Version
	// is set); otherwise Version is 0.
	Embedded bool
	codec    *goavro.Codec
}

// WriterSchema compiles the text of a writer's schema, e.g. as fetched
// from a schema registry by id.
func (r *Registry) WriterSchema(text string) (*WriterSchema, error) {
	c, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("compiling writer schema: %w", err)
	}
	if v, ok := r.byFingerprint[c.Rabin]; ok {
		return &WriterSchema{Schema: v.Schema, Embedded: true, codec: v.codec}, nil
	}
	var head struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(text), &head); err != nil || head.Type != "record" {
		return nil, fmt.Errorf("writer schema %016x is not an Avro record schema", c.Rabin)
	}
	name := head.Name[strings.LastIndexByte(head.Name, '.')+1:]
	return &WriterSchema{Schema: Schema{Name: name, Fingerprint: c.Rabin}, codec: c}, nil
}

// DecodeBody decodes one bare Avro binary datum (no single-object header)
// written with w, returning it in goavro's native form.
func (r *Registry) DecodeBody(w *WriterSchema, body []byte) (map[string]any, error) {
	return decodeBody(w.codec, w.Schema, body)
}

// BodyJSON renders one bare Avro binary datum written with w as Avro JSON
// (unions tagged by type).
func (r *Registry) BodyJSON(w *WriterSchema, body []byte) ([]byte, error) {
	native, err := decodeBody(w.codec, w.Schema, body)
	if err != nil {
		return nil, err
	}
	out, err := w.codec.TextualFromNative(nil, native)
	if err != nil {
		return nil, fmt.Errorf("rendering %s as JSON: %w", w.Schema, err)
	}
	return out, nil
}
