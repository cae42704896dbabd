package gizwits

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// point is an attr compiled for decoding: where its bits or bytes are and how
// its raw value becomes a typed value. Built once by Parse, read-only after.
type point struct {
	name  string
	id    int
	kind  DataType
	width int // bits for bool/enum, bytes for uint/binary
	// Standard layout: for uint/binary off is the first byte; for bool/enum
	// off is the end (exclusive) of the bit region and bit the position of
	// the field's least significant bit counted from the region's last byte.
	off, bit int
	// var_len flag: byte index inside the flags and the bit mask.
	flagByte int
	flagMask byte
	scale    value.Scale
	enum     []string
	maxRaw   uint64
}

// bitsAt reads width bits at position pos of the big-endian region ending at
// end (exclusive); bit 0 is the least significant bit of b[end-1].
func bitsAt(b []byte, end, pos, width int) uint64 {
	lo := end - 1 - pos/8
	if width <= 8-pos%8 { // one byte: the common case
		return uint64(b[lo]>>(pos%8)) & (1<<width - 1)
	}
	hi := end - 1 - (pos+width-1)/8
	var v uint64
	for i := hi; i <= lo; i++ {
		v = v<<8 | uint64(b[i])
	}
	return (v >> (pos % 8)) & (1<<width - 1)
}

// putBits writes the low width bits of v at position pos of the region ending
// at end; it is the inverse of bitsAt.
func putBits(b []byte, end, pos, width int, v uint64) {
	for i := 0; i < width; i++ {
		p := pos + i
		idx := end - 1 - p/8
		mask := byte(1) << (p % 8)
		if v>>i&1 == 1 {
			b[idx] |= mask
		} else {
			b[idx] &^= mask
		}
	}
}

// uintAt reads an n-byte big-endian unsigned integer (n is 1, 2 or 4).
func uintAt(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(b[0])<<8 | uint64(b[1])
	}
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

// putUint writes v big-endian over all of b.
func putUint(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// bitValue types a bool or enum raw value.
func (p *point) bitValue(raw uint64) value.Value {
	if p.kind == Bool {
		return value.OfBool(raw != 0)
	}
	if raw < uint64(len(p.enum)) {
		return value.OfString(p.enum[raw])
	}
	// A value the export has no label for is kept, as its index.
	return value.OfString(strconv.FormatUint(raw, 10))
}

// byteValue types the bytes of a uint or binary attr.
func (p *point) byteValue(b []byte) value.Value {
	if p.kind == Binary {
		return value.OfString(hex.EncodeToString(b))
	}
	return p.scale.Apply(uintAt(b))
}

// rawOf converts a caller's value for a bool, enum or uint attr into its raw
// unsigned form, checking that it fits the attr's width.
func (p *point) rawOf(x any) (uint64, error) {
	if v, ok := x.(value.Value); ok && v.Kind() == value.Bool {
		x = v.Bool()
	} else if ok && v.Kind() == value.String {
		x = v.Str()
	}
	switch p.kind {
	case Bool:
		if b, ok := x.(bool); ok {
			if b {
				return 1, nil
			}
			return 0, nil
		}
		if f, ok := value.Number(x); ok && (f == 0 || f == 1) {
			return uint64(f), nil
		}
		return 0, fmt.Errorf("attr %q is bool, got %T %v", p.name, x, x)
	case Enum:
		if s, ok := x.(string); ok {
			for i, l := range p.enum {
				if l == s {
					return uint64(i), nil
				}
			}
			return 0, fmt.Errorf("attr %q: %q is not one of its labels %q", p.name, s, p.enum)
		}
		f, ok := value.Number(x)
		if !ok || f < 0 || f != math.Trunc(f) || f > float64(p.maxRaw) {
			return 0, fmt.Errorf("attr %q is an enum of %d bits, got %T %v", p.name, p.width, x, x)
		}
		return uint64(f), nil
	}
	f, ok := value.Number(x)
	if !ok {
		if s, isStr := x.(string); isStr {
			f, ok = parseNumber(s)
		}
		if !ok {
			return 0, fmt.Errorf("attr %q is %s, got %T %v", p.name, p.kind, x, x)
		}
	}
	raw := p.scale.Unapply(f)
	if raw < 0 || raw > float64(p.maxRaw) || math.IsNaN(raw) {
		return 0, fmt.Errorf("attr %q: %v is raw %v, outside 0..%d of %s", p.name, f, raw, p.maxRaw, p.kind)
	}
	return uint64(raw), nil
}

// bytesOf converts a caller's value for a binary attr: hex string or bytes of
// exactly the attr's length.
func (p *point) bytesOf(x any) ([]byte, error) {
	var b []byte
	switch t := x.(type) {
	case []byte:
		b = t
	case string:
		d, err := hex.DecodeString(t)
		if err != nil {
			return nil, fmt.Errorf("attr %q: decoding hex: %w", p.name, err)
		}
		b = d
	case value.Value:
		return p.bytesOf(t.Str())
	default:
		return nil, fmt.Errorf("attr %q is binary, got %T", p.name, x)
	}
	if len(b) != p.width {
		return nil, fmt.Errorf("attr %q is %d bytes, got %d", p.name, p.width, len(b))
	}
	return b, nil
}

// kvValue types a value of a key/value status (already scaled, enums as
// labels, bools often as 0/1) the way a decoded one would be.
func (p *point) kvValue(x any) (value.Value, error) {
	if v, ok := x.(value.Value); ok {
		x = v.Any()
	}
	switch p.kind {
	case Bool:
		switch t := x.(type) {
		case bool:
			return value.OfBool(t), nil
		case string:
			if b, err := strconv.ParseBool(t); err == nil {
				return value.OfBool(b), nil
			}
		}
		if f, ok := value.Number(x); ok && (f == 0 || f == 1) {
			return value.OfBool(f == 1), nil
		}
	case Enum:
		if s, ok := x.(string); ok {
			for _, l := range p.enum {
				if l == s {
					return value.OfString(l), nil
				}
			}
			if n, err := strconv.ParseUint(s, 10, 32); err == nil && n <= p.maxRaw {
				return p.bitValue(n), nil
			}
			break
		}
		if f, ok := value.Number(x); ok && f >= 0 && f == math.Trunc(f) && f <= float64(p.maxRaw) {
			return p.bitValue(uint64(f)), nil
		}
	case Binary:
		if s, ok := x.(string); ok {
			return value.OfString(strings.ToLower(s)), nil
		}
	default:
		f, ok := value.Number(x)
		if s, isStr := x.(string); isStr {
			f, ok = parseNumber(s)
		}
		if !ok {
			break
		}
		if p.scale.Integral() {
			if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				break
			}
			return value.OfInt(int64(f)), nil
		}
		return value.OfFloat(p.scale.Round(f)), nil
	}
	return value.Value{}, fmt.Errorf("attr %q is %s, got %T %v: %w", p.name, p.kind, x, x, ErrValueMismatch)
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}
