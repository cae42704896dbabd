package enos

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/snotibridge/snotibridge/pkg/internal/jsonappend"
)

// The append encoders below write exactly what encoding/json writes for
// the same values (keys sorted, HTML characters escaped, floats formatted
// alike), without its reflection, per-map sorting slices and boxed
// copies: the entries of a batch were most of the forwarder's encoding
// time and allocations. A value they do not know is encoded by
// encoding/json itself. TestAppendJSON and FuzzAppendJSON compare them
// with encoding/json.

// appendJSONFloat appends f as encoding/json formats a float64; false for
// NaN and infinities, which JSON cannot carry.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONValue appends v as encoding/json encodes it.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return jsonappend.String(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		if out, ok := appendJSONFloat(b, x); ok {
			return out, nil
		}
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendJSONMap(b, x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// appendJSONMap appends m as encoding/json encodes a map[string]any: its
// keys sorted.
func appendJSONMap(b []byte, m map[string]any) ([]byte, error) {
	var buf [16]string
	return appendJSONMapCached(b, m, &sortedKeys{keys: buf[:0]})
}

// sortedKeys remembers the sorted keys of the last map appendJSONMapCached
// encoded: the entries of a batch mostly name the same points (those of
// their product), and checking that a map has exactly those keys costs a
// lookup per key, which encoding needs anyway, instead of iterating and
// sorting the map again (most of an entry's encoding time).
type sortedKeys struct {
	keys []string
	// points is the sorted copy of the last unsorted Points encoded.
	points []Point
}

// appendJSONMapCached is appendJSONMap(b, m), using and updating the keys
// remembered in s (nil: none).
func appendJSONMapCached(b []byte, m map[string]any, s *sortedKeys) ([]byte, error) {
	if s == nil {
		return appendJSONMap(b, m)
	}
	if len(s.keys) == len(m) && len(m) > 0 {
		// The same number of distinct keys, each in m: the same set. A
		// value that fails before every key was found is encoded again in
		// m's own order below: with another set, encoding/json would fail
		// on the first such value in that order, not in this one.
		if out, ok, err := appendJSONMapKeys(b, m, s.keys); ok {
			return out, err
		}
	}
	s.keys = s.keys[:0]
	for k := range m {
		s.keys = append(s.keys, k)
	}
	slices.Sort(s.keys)
	out, _, err := appendJSONMapKeys(b, m, s.keys)
	return out, err
}

// appendJSONMapKeys appends m with its keys in the order of keys, which
// must name every key of m. It reports false, with b as it was, when a key
// of keys is not in m.
func appendJSONMapKeys(b []byte, m map[string]any, keys []string) ([]byte, bool, error) {
	start := len(b)
	b = append(b, '{')
	for i, k := range keys {
		v, ok := m[k]
		if !ok {
			return b[:start], false, nil
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(jsonappend.String(b, k), ':')
		var err error
		if b, err = appendJSONValue(b, v); err != nil {
			return nil, false, err
		}
	}
	return append(b, '}'), true, nil
}

// appendJSONDevice appends the fields of d as the start of an object,
// omitting the empty ones as its json tags do, and returns whether it
// wrote any.
func appendJSONDevice(b []byte, d Device) ([]byte, bool) {
	wrote := false
	for _, f := range [...]struct{ key, val string }{{`"assetId":`, d.AssetID}, {`"productKey":`, d.ProductKey}, {`"deviceKey":`, d.DeviceKey}} {
		if f.val == "" {
			continue
		}
		if wrote {
			b = append(b, ',')
		}
		b = jsonappend.String(append(b, f.key...), f.val)
		wrote = true
	}
	return b, wrote
}

// appendJSONEntry appends an entry object: the device's fields, then
// "time" (epoch ms) unless time is nil, then key and the map m (its keys
// sorted with the help of keys, when not nil).
func appendJSONEntry(b []byte, d Device, time *int64, key string, m map[string]any, keys *sortedKeys) ([]byte, error) {
	b, err := appendJSONMapCached(appendJSONEntryHead(b, d, time, key), m, keys)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendJSONEntryHead appends the start of an entry object, up to the
// value of key: the device's fields, "time" (epoch ms) unless time is nil,
// then key.
func appendJSONEntryHead(b []byte, d Device, time *int64, key string) []byte {
	b, wrote := appendJSONDevice(append(b, '{'), d)
	if time != nil {
		if wrote {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, `"time":`...), *time, 10)
		wrote = true
	}
	if wrote {
		b = append(b, ',')
	}
	return append(jsonappend.String(b, key), ':')
}
