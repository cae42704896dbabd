package devcodec

import (
	"encoding/hex"
	"fmt"
	"math"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// writeUint writes the low len(b) bytes of v into b in the given order.
func writeUint(b []byte, v uint64, little bool) {
	for i := range b {
		shift := 8 * i
		if little {
			b[i] = byte(v >> shift)
		} else {
			b[len(b)-1-i] = byte(v >> shift)
		}
	}
}

// encode writes x, a value as Decode returns it, into p (at least f.end()
// bytes). Bit fields read, modify and write their container so fields that
// share it compose.
func (f *field) encode(p []byte, x any) error {
	if v, ok := x.(value.Value); ok {
		x = v.Any()
	}
	b := p[f.offset:f.end()]
	switch f.typ {
	case "bytes":
		var raw []byte
		switch t := x.(type) {
		case []byte:
			raw = t
		case string:
			d, err := hex.DecodeString(t)
			if err != nil {
				return fmt.Errorf("field %q: decoding hex: %w", f.name, err)
			}
			raw = d
		default:
			return fmt.Errorf("field %q is bytes, got %T", f.name, x)
		}
		if len(raw) != f.length {
			return fmt.Errorf("field %q is %d bytes, got %d", f.name, f.length, len(raw))
		}
		copy(b, raw)
		return nil
	case "ascii":
		s, ok := x.(string)
		if !ok || len(s) > f.length {
			return fmt.Errorf("field %q is ascii of at most %d bytes, got %T %v", f.name, f.length, x, x)
		}
		clear(b)
		copy(b, s)
		return nil
	case "f32", "f64":
		v, ok := value.Number(x)
		if !ok {
			return fmt.Errorf("field %q is %s, got %T", f.name, f.typ, x)
		}
		raw := (v - f.scale.Addition()) / f.scale.Ratio()
		if f.typ == "f32" {
			writeUint(b, uint64(math.Float32bits(float32(raw))), f.little)
		} else {
			writeUint(b, math.Float64bits(raw), f.little)
		}
		return nil
	}
	raw, err := f.rawOf(x)
	if err != nil {
		return err
	}
	if f.typ == "bits" {
		mask := uint64(math.MaxUint64)
		if f.bits < 64 {
			mask = 1<<f.bits - 1
		}
		cur := readUint(b, f.little) &^ (mask << f.bit)
		writeUint(b, cur|(raw&mask)<<f.bit, f.little)
		return nil
	}
	writeUint(b, raw, f.little)
	return nil
}

// rawOf converts an integer or bit field's value (bool, label, or the scaled
// number) to its raw bits, checking that it fits.
func (f *field) rawOf(x any) (uint64, error) {
	width := 8 * f.length
	if f.typ == "bits" {
		width = f.bits
	}
	if b, ok := x.(bool); ok {
		if b {
			x = 1
		} else {
			x = 0
		}
	}
	if s, ok := x.(string); ok {
		for k, l := range f.enum {
			if l == s {
				x = k
				break
			}
		}
		if _, still := x.(string); still {
			if n, err := parseInt(s); err == nil {
				x = n
			} else {
				return 0, fmt.Errorf("field %q: %q is not one of its labels", f.name, s)
			}
		}
	}
	if u, ok := x.(uint64); ok { // u64 beyond float64 precision
		if f.typ == "u64" && f.identity {
			return u, nil
		}
		x = float64(u)
	}
	if i, ok := x.(int64); ok && f.identity && f.info.signed {
		return uint64(i), nil
	}
	v, ok := value.Number(x)
	if !ok {
		return 0, fmt.Errorf("field %q is %s, got %T", f.name, f.typ, x)
	}
	r := f.scale.Unapply(v)
	lo, hi := 0.0, math.Ldexp(1, width)-1
	if f.info.signed {
		lo, hi = -math.Ldexp(1, width-1), math.Ldexp(1, width-1)-1
	}
	if math.IsNaN(r) || r < lo || r > hi {
		return 0, fmt.Errorf("field %q: %v is raw %v, outside %v..%v of %s", f.name, v, r, lo, hi, f.typ)
	}
	if r < 0 {
		return uint64(int64(r)), nil
	}
	if r >= math.Ldexp(1, 63) {
		return uint64(r), nil
	}
	return uint64(int64(r)), nil
}
