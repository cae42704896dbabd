package gizwits

import (
	"fmt"
	"slices"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// standardLayout is a fixed-length status: every attr at a known place, the
// status exactly size bytes after the action byte.
type standardLayout struct {
	points []point // export order
	size   int
}

// areaOrder is the order of the areas in a standard status.
var areaOrder = []AttrType{StatusWritable, StatusReadonly, Alert, Fault}

// newStandardLayout places every attr, reporting each problem (overlaps,
// unknown area) rather than stopping at the first.
func newStandardLayout(attrs []Attr, pts []point) (standardLayout, []string) {
	var problems []string
	byArea := map[AttrType][]int{}
	for i, a := range attrs {
		if !slices.Contains(areaOrder, a.Type) {
			problems = append(problems, fmt.Sprintf("attr %q: type %q unknown: want status_writable, status_readonly, alert or fault", a.Name, a.Type))
			continue
		}
		if a.DataType.isBits() {
			byArea[a.Type] = append(byArea[a.Type], i)
		}
	}
	// Bit regions, one per area.
	for _, area := range areaOrder {
		idx := byArea[area]
		if len(idx) == 0 {
			continue
		}
		start, sameByte, wide := attrs[idx[0]].Position.ByteOffset, true, false
		for _, i := range idx {
			p := attrs[i].Position
			start = min(start, p.ByteOffset)
			sameByte = sameByte && p.ByteOffset == attrs[idx[0]].Position.ByteOffset
			wide = wide || p.BitOffset+pts[i].width > 8
		}
		if sameByte || wide {
			// Gizwits' convention: bit_offset counts across the area's bit bytes.
			n := 0
			for _, i := range idx {
				n = max(n, (attrs[i].Position.BitOffset+pts[i].width+7)/8)
			}
			for _, i := range idx {
				pts[i].off, pts[i].bit = start+n, attrs[i].Position.BitOffset
			}
			continue
		}
		// Per-byte export: bit_offset within the byte at byte_offset.
		for _, i := range idx {
			pts[i].off, pts[i].bit = attrs[i].Position.ByteOffset+1, attrs[i].Position.BitOffset
		}
	}
	// Overlaps: each bit and byte has one owner, bytes shared only by the
	// bit fields of one area.
	size := 0
	bitOwner := map[int]int{}  // absolute bit (byte*8 + bit-in-byte) → attr
	byteOwner := map[int]int{} // byte → attr for uint/binary, -1-area for bit bytes
	claimByte := func(b, owner int, name string) {
		if o, ok := byteOwner[b]; ok && o != owner {
			problems = append(problems, fmt.Sprintf("attr %q overlaps %s at byte %d", name, ownerName(attrs, o), b))
			return
		}
		byteOwner[b] = owner
	}
	for i := range pts {
		p, a := &pts[i], attrs[i]
		if !slices.Contains(areaOrder, a.Type) {
			continue
		}
		if a.DataType.isBits() {
			area := -1 - slices.Index(areaOrder, a.Type)
			for k := 0; k < p.width; k++ {
				pos := p.bit + k
				abs := (p.off-1-pos/8)*8 + pos%8
				if o, ok := bitOwner[abs]; ok {
					problems = append(problems, fmt.Sprintf("attr %q overlaps attr %q at byte %d bit %d", a.Name, attrs[o].Name, abs/8, abs%8))
					break
				}
				bitOwner[abs] = i
				claimByte(abs/8, area, a.Name)
			}
			size = max(size, p.off)
			continue
		}
		p.off = a.Position.ByteOffset
		for b := p.off; b < p.off+p.width; b++ {
			claimByte(b, i, a.Name)
		}
		size = max(size, p.off+p.width)
	}
	return standardLayout{points: pts, size: size}, problems
}

func ownerName(attrs []Attr, o int) string {
	if o < 0 {
		return fmt.Sprintf("the %s bit fields", areaOrder[-1-o])
	}
	return fmt.Sprintf("attr %q", attrs[o].Name)
}

// decode appends the values of status (the bytes after the action byte).
func (l *standardLayout) decode(dst []value.Field, status []byte) ([]value.Field, error) {
	if len(status) != l.size {
		if len(status) < l.size {
			return dst, fmt.Errorf("status has %d bytes, definition needs %d: %w", len(status), l.size, ErrTooShort)
		}
		return dst, fmt.Errorf("status has %d bytes, definition needs %d: %w", len(status), l.size, ErrLengthMismatch)
	}
	for i := range l.points {
		p := &l.points[i]
		var v value.Value
		if p.kind == Bool || p.kind == Enum {
			v = p.bitValue(bitsAt(status, p.off, p.bit, p.width))
		} else {
			v = p.byteValue(status[p.off : p.off+p.width])
		}
		dst = append(dst, value.Field{Name: p.name, Value: v})
	}
	return dst, nil
}

// encode appends the status for values, which must hold every attr.
func (l *standardLayout) encode(dst []byte, values map[string]any) ([]byte, error) {
	for name := range values {
		if !slices.ContainsFunc(l.points, func(p point) bool { return p.name == name }) {
			return dst, fmt.Errorf("no attr %q in the definition", name)
		}
	}
	start := len(dst)
	dst = append(dst, make([]byte, l.size)...)
	status := dst[start:]
	for i := range l.points {
		p := &l.points[i]
		x, ok := values[p.name]
		if !ok {
			return dst[:start], fmt.Errorf("attr %q missing: a standard status carries every attr", p.name)
		}
		switch p.kind {
		case Binary:
			b, err := p.bytesOf(x)
			if err != nil {
				return dst[:start], err
			}
			copy(status[p.off:], b)
		case Bool, Enum:
			raw, err := p.rawOf(x)
			if err != nil {
				return dst[:start], err
			}
			putBits(status, p.off, p.bit, p.width, raw)
		default:
			raw, err := p.rawOf(x)
			if err != nil {
				return dst[:start], err
			}
			putUint(status[p.off:p.off+p.width], raw)
		}
	}
	return dst, nil
}
