package gizwits

import (
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// varLenLayout is a variable-length status: flags for every attr, then the
// flagged bool/enum attrs packed from the least significant bit of a
// big-endian bit segment, then the flagged uint/binary attrs, all in id order.
type varLenLayout struct {
	points    []point // id order
	flagBytes int
}

// newVarLenLayout orders the attrs by id. Flags are ceil((max id + 1)/8)
// bytes, which is ceil(N/8) for the usual ids 0..N-1.
func newVarLenLayout(pts []point) varLenLayout {
	maxID := 0
	for _, p := range pts {
		maxID = max(maxID, p.id)
	}
	l := varLenLayout{points: pts, flagBytes: (maxID + 8) / 8}
	for i := range l.points {
		p := &l.points[i]
		p.flagByte = l.flagBytes - 1 - p.id/8
		p.flagMask = 1 << (p.id % 8)
	}
	return l
}

// decode appends the values of the flagged attrs of body (the bytes after
// the action byte).
func (l *varLenLayout) decode(dst []value.Field, body []byte) ([]value.Field, error) {
	if len(body) < l.flagBytes {
		return dst, fmt.Errorf("var_len status has %d bytes, its flags need %d: %w", len(body), l.flagBytes, ErrTooShort)
	}
	flags := body[:l.flagBytes]
	bits, bytes := 0, 0
	for i := range l.points {
		p := &l.points[i]
		if flags[p.flagByte]&p.flagMask == 0 {
			continue
		}
		if p.kind == Bool || p.kind == Enum {
			bits += p.width
		} else {
			bytes += p.width
		}
	}
	bitBytes := (bits + 7) / 8
	if need := l.flagBytes + bitBytes + bytes; len(body) != need {
		err := ErrLengthMismatch
		if len(body) < need {
			err = ErrTooShort
		}
		return dst, fmt.Errorf("var_len status has %d bytes, its flags announce %d: %w", len(body), need, err)
	}
	seg := body[l.flagBytes : l.flagBytes+bitBytes]
	vals := body[l.flagBytes+bitBytes:]
	bitPos := 0
	for i := range l.points {
		p := &l.points[i]
		if flags[p.flagByte]&p.flagMask == 0 {
			continue
		}
		var v value.Value
		if p.kind == Bool || p.kind == Enum {
			v = p.bitValue(bitsAt(seg, len(seg), bitPos, p.width))
			bitPos += p.width
		} else {
			v = p.byteValue(vals[:p.width])
			vals = vals[p.width:]
		}
		dst = append(dst, value.Field{Name: p.name, Value: v})
	}
	return dst, nil
}

// encode appends a status flagging exactly the attrs present in values.
func (l *varLenLayout) encode(dst []byte, values map[string]any) ([]byte, error) {
	start := len(dst)
	flags := make([]byte, l.flagBytes)
	bits, found := 0, 0
	for i := range l.points {
		p := &l.points[i]
		if _, ok := values[p.name]; !ok {
			continue
		}
		found++
		flags[p.flagByte] |= p.flagMask
		if p.kind == Bool || p.kind == Enum {
			bits += p.width
		}
	}
	if found != len(values) {
		for name := range values {
			if !l.has(name) {
				return dst, fmt.Errorf("no attr %q in the definition", name)
			}
		}
	}
	dst = append(dst, flags...)
	segStart := len(dst)
	bitBytes := (bits + 7) / 8
	dst = append(dst, make([]byte, bitBytes)...)
	bitPos := 0
	for i := range l.points {
		p := &l.points[i]
		x, ok := values[p.name]
		if !ok {
			continue
		}
		switch p.kind {
		case Bool, Enum:
			raw, err := p.rawOf(x)
			if err != nil {
				return dst[:start], err
			}
			putBits(dst[segStart:segStart+bitBytes], bitBytes, bitPos, p.width, raw)
			bitPos += p.width
		case Binary:
			b, err := p.bytesOf(x)
			if err != nil {
				return dst[:start], err
			}
			dst = append(dst, b...)
		default:
			raw, err := p.rawOf(x)
			if err != nil {
				return dst[:start], err
			}
			n := len(dst)
			dst = append(dst, make([]byte, p.width)...)
			putUint(dst[n:], raw)
		}
	}
	return dst, nil
}

func (l *varLenLayout) has(name string) bool {
	for i := range l.points {
		if l.points[i].name == name {
			return true
		}
	}
	return false
}
