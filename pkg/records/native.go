package records

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Helpers between Go values and goavro's native form, where a non-null
// union value is a one-entry map keyed by its type name.

func optString(p *string) any {
	if p == nil {
		return nil
	}
	return goavro.Union("string", *p)
}

func optBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return goavro.Union("bytes", b)
}

func optDouble(p *float64) any {
	if p == nil {
		return nil
	}
	return goavro.Union("double", *p)
}

// scalar converts a data-point or kv value to its union branch.
func scalar(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return goavro.Union("boolean", x), nil
	case int:
		return goavro.Union("long", int64(x)), nil
	case int64:
		return goavro.Union("long", x), nil
	case uint64:
		if x > math.MaxInt64 {
			return goavro.Union("string", strconv.FormatUint(x, 10)), nil
		}
		return goavro.Union("long", int64(x)), nil
	case uint8:
		return goavro.Union("long", int64(x)), nil
	case uint16:
		return goavro.Union("long", int64(x)), nil
	case uint32:
		return goavro.Union("long", int64(x)), nil
	case int32:
		return goavro.Union("long", int64(x)), nil
	case float64:
		return goavro.Union("double", x), nil
	case float32:
		return goavro.Union("double", float64(x)), nil
	case string:
		return goavro.Union("string", x), nil
	}
	return nil, fmt.Errorf("value %v of type %T: want bool, integer, float or string", v, v)
}

// unwrap returns a union's value (nil for null).
func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

type reader struct {
	m   map[string]any
	err error
}

func (r *reader) fail(field string, v any, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: got %T, want %s", field, v, want)
	}
}

func (r *reader) str(f string) string {
	v, ok := r.m[f]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(f, v, "string")
	}
	return s
}

func (r *reader) optStr(f string) *string {
	v := unwrap(r.m[f])
	if v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		r.fail(f, v, "string")
		return nil
	}
	return &s
}

func (r *reader) optDouble(f string) *float64 {
	v := unwrap(r.m[f])
	if v == nil {
		return nil
	}
	d, ok := v.(float64)
	if !ok {
		r.fail(f, v, "double")
		return nil
	}
	return &d
}

func (r *reader) bytes(f string) []byte {
	v := unwrap(r.m[f])
	if v == nil {
		return nil
	}
	b, ok := v.([]byte)
	if !ok {
		r.fail(f, v, "bytes")
	}
	return b
}

func (r *reader) long(f string) int64 {
	switch x := r.m[f].(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case nil:
		return 0
	default:
		r.fail(f, x, "long")
		return 0
	}
}

func (r *reader) time(f string) time.Time {
	v, ok := r.m[f].(time.Time)
	if !ok && r.m[f] != nil {
		r.fail(f, r.m[f], "timestamp")
	}
	return v.UTC()
}

func (r *reader) strMap(f string) map[string]string {
	raw, _ := r.m[f].(map[string]any)
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			r.fail(f+"."+k, v, "string")
		}
		out[k] = s
	}
	return out
}

func (r *reader) record(f string) *reader {
	v := unwrap(r.m[f])
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(f, v, "record")
		return nil
	}
	return &reader{m: m}
}

func strMapNative(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
