package snotisim

import (
	"fmt"
	"math/bits"
)

// Gizwits transport constants (shared/reference/gizwits-datapoints.md).
var framePrefix = []byte{0x00, 0x00, 0x00, 0x03}

const (
	cmdDeviceToCloud   = 0x0091
	actionStatusStd    = 0x04
	actionStatusVarLen = 0x14
)

// rawValues holds one raw (unscaled) value per attr, indexed like
// definition.attrs: bool 0/1, enum index, uint raw x, binary bytes.
type rawValues struct {
	nums []uint64
	bins [][]byte
}

// statusFrame builds a device→cloud status report frame (cmd 0x0091) for
// the definition's protocol: the bytes a device_status_raw carries.
//
// This is the simulator's own small encoder: pkg/gizwits decodes frames,
// and the simulator must not depend on the decoder it helps test.
func (d *definition) statusFrame(v rawValues) ([]byte, error) {
	var p0 []byte
	var err error
	if d.ProtocolType == "var_len" {
		p0 = d.varLenStatus(v)
	} else if p0, err = d.standardStatus(v); err != nil {
		return nil, err
	}
	n := 1 + 2 + len(p0) // flag, cmd, P0
	frame := append([]byte{}, framePrefix...)
	for { // MQTT-style length, least significant group first
		b := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			frame = append(frame, b|0x80)
			continue
		}
		frame = append(frame, b)
		break
	}
	frame = append(frame, 0x00, byte(cmdDeviceToCloud>>8), byte(cmdDeviceToCloud&0xff))
	return append(frame, p0...), nil
}

// standardStatus lays out action 0x04 and the fixed status area: each
// attr at its byte_offset; bool/enum attrs of one area share a big-endian
// bit field starting at the area's lowest byte_offset.
func (d *definition) standardStatus(v rawValues) ([]byte, error) {
	type span struct{ start, nbytes int }
	areas := map[string]*span{}
	size := 0
	for _, a := range d.attrs {
		if !a.isBits() {
			size = max(size, a.Position.ByteOffset+a.byteLen())
			continue
		}
		s := areas[a.Type]
		if s == nil {
			s = &span{start: a.Position.ByteOffset}
			areas[a.Type] = s
		}
		s.start = min(s.start, a.Position.ByteOffset)
		s.nbytes = max(s.nbytes, (a.Position.BitOffset+a.Position.Len+7)/8)
	}
	for _, s := range areas {
		size = max(size, s.start+s.nbytes)
	}
	p := make([]byte, 1+size)
	p[0] = actionStatusStd
	body := p[1:]
	for i, a := range d.attrs {
		if a.isBits() {
			s := areas[a.Type]
			putBits(body[s.start:s.start+s.nbytes], a.Position.BitOffset, a.Position.Len, v.nums[i])
			continue
		}
		dst := body[a.Position.ByteOffset : a.Position.ByteOffset+a.byteLen()]
		if a.DataType == "binary" {
			copy(dst, v.bins[i])
			continue
		}
		if bits.Len64(v.nums[i]) > 8*len(dst) {
			return nil, fmt.Errorf("attr %q: raw value %d does not fit %d bytes", a.Name, v.nums[i], len(dst))
		}
		putUint(dst, v.nums[i])
	}
	return p, nil
}

// varLenStatus lays out action 0x14 with every attr flagged: flags, the
// bit segment (bool/enum in id order from the least significant bit up)
// and the value segment (uint/binary in id order).
func (d *definition) varLenStatus(v rawValues) []byte {
	n := len(d.attrs)
	flags := make([]byte, (n+7)/8)
	totalBits := 0
	for i, a := range d.attrs {
		putBits(flags, i, 1, 1)
		if a.isBits() {
			totalBits += a.Position.Len
		}
	}
	seg := make([]byte, (totalBits+7)/8)
	off := 0
	var values []byte
	for i, a := range d.attrs {
		if a.isBits() {
			putBits(seg, off, a.Position.Len, v.nums[i])
			off += a.Position.Len
			continue
		}
		if a.DataType == "binary" {
			values = append(values, v.bins[i]...)
			continue
		}
		b := make([]byte, a.byteLen())
		putUint(b, v.nums[i])
		values = append(values, b...)
	}
	p := append([]byte{actionStatusVarLen}, flags...)
	p = append(p, seg...)
	return append(p, values...)
}

// putBits stores the low n bits of v at bit offset off of field, read as
// one big-endian integer (bit 0 is the last byte's least significant bit).
func putBits(field []byte, off, n int, v uint64) {
	for i := range n {
		bit := off + i
		idx := len(field) - 1 - bit/8
		if idx < 0 {
			return
		}
		if v>>i&1 == 1 {
			field[idx] |= 1 << (bit % 8)
		} else {
			field[idx] &^= 1 << (bit % 8)
		}
	}
}

func putUint(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte(v)
		v >>= 8
	}
}
