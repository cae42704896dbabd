package avro

import (
	"errors"
	"fmt"
	"sort"

	"github.com/linkedin/goavro/v2"

	"github.com/snotibridge/snotibridge/schemas"
)

// Block limits for decoding: goavro's defaults (2^31) let one corrupt length
// prefix allocate gigabytes. No record of ours holds more than a few
// thousand items or a few MiB in one block.
const (
	maxBlockCount = 1 << 16
	maxBlockSize  = 16 << 20
)

func init() {
	goavro.MaxBlockCount = maxBlockCount
	goavro.MaxBlockSize = maxBlockSize
}

// ErrUnknownSchema means a record names a schema fingerprint that no
// embedded schema version has: it was written by a newer program, or is not
// one of ours.
var ErrUnknownSchema = errors.New("unknown schema fingerprint")

// Schema identifies the version a record was written with.
type Schema struct {
	Name        string
	Version     int
	Fingerprint uint64
}

// String renders the schema as Name.vN, the value of the "schema" header.
func (s Schema) String() string { return fmt.Sprintf("%s.v%d", s.Name, s.Version) }

type version struct {
	Schema
	codec *goavro.Codec
	json  string
}

// Registry holds a codec for every embedded schema version. It is immutable
// after New and safe for concurrent use.
type Registry struct {
	current       map[string]*version
	byFingerprint map[uint64]*version
}

// New compiles every embedded schema version.
func New() (*Registry, error) {
	all, err := schemas.All()
	if err != nil {
		return nil, err
	}
	r := &Registry{current: map[string]*version{}, byFingerprint: map[uint64]*version{}}
	for _, s := range all {
		c, err := goavro.NewCodec(s.JSON)
		if err != nil {
			return nil, fmt.Errorf("compiling schema %s: %w", s.File, err)
		}
		v := &version{Schema: Schema{Name: s.Name, Version: s.Version, Fingerprint: c.Rabin}, codec: c, json: s.JSON}
		if other, dup := r.byFingerprint[c.Rabin]; dup {
			return nil, fmt.Errorf("schema %s has the same canonical form as %s: bump only with a real change", s.File, other.Schema)
		}
		r.byFingerprint[c.Rabin] = v
		if cur, ok := r.current[s.Name]; !ok || s.Version > cur.Version {
			r.current[s.Name] = v
		}
	}
	return r, nil
}

// Current returns the version writers use for the record name.
func (r *Registry) Current(name string) (Schema, error) {
	v, ok := r.current[name]
	if !ok {
		return Schema{}, fmt.Errorf("no schema named %q", name)
	}
	return v.Schema, nil
}

// Names returns the record names that have a schema, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.current))
	for n := range r.current {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Encode appends datum, in goavro's native form, encoded with the current
// version of the named schema, to buf.
func (r *Registry) Encode(buf []byte, name string, datum map[string]any) ([]byte, error) {
	v, ok := r.current[name]
	if !ok {
		return nil, fmt.Errorf("encoding %s: no such schema", name)
	}
	out, err := v.codec.SingleFromNative(buf, datum)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", v.Schema, err)
	}
	return out, nil
}

// Decode decodes one single-object-encoded record with the schema version
// it was written with, returning that version and the datum in goavro's
// native form.
func (r *Registry) Decode(b []byte) (Schema, map[string]any, error) {
	fp, body, err := goavro.FingerprintFromSOE(b)
	if err != nil {
		return Schema{}, nil, fmt.Errorf("decoding record: %w", err)
	}
	v, ok := r.byFingerprint[fp]
	if !ok {
		return Schema{}, nil, fmt.Errorf("decoding record: %w %016x", ErrUnknownSchema, fp)
	}
	m, err := decodeBody(v.codec, v.Schema, body)
	return v.Schema, m, err
}

// decodeBody decodes one bare Avro binary datum, which must be a record and
// fill body exactly.
func decodeBody(c *goavro.Codec, s Schema, body []byte) (map[string]any, error) {
	native, rest, err := c.NativeFromBinary(body)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", s, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decoding %s: %d trailing bytes", s, len(rest))
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decoding %s: datum is %T, not a record", s, native)
	}
	return m, nil
}

// JSON renders an encoded record as Avro JSON (unions tagged by type),
// for tools such as bridgectl tail.
func (r *Registry) JSON(b []byte) (Schema, []byte, error) {
	s, native, err := r.Decode(b)
	if err != nil {
		return s, nil, err
	}
	out, err := r.byFingerprint[s.Fingerprint].codec.TextualFromNative(nil, native)
	if err != nil {
		return s, nil, fmt.Errorf("rendering %s as JSON: %w", s, err)
	}
	return s, out, nil
}
