package gizwits

import (
	"encoding/binary"
	"fmt"
)

// magic opens every transport frame.
var magic = [4]byte{0x00, 0x00, 0x00, 0x03}

// maxVarLen is the largest value a 4-byte MQTT-style length holds.
const maxVarLen = 1<<28 - 1

// Frame is a parsed transport frame. When the bytes did not start with the
// magic, Framed is false and P0 is the whole input.
type Frame struct {
	Framed bool
	Flag   byte
	Cmd    Cmd
	SN     uint32 // meaningful when Cmd.HasSN()
	P0     []byte // aliases the input
}

// ParseFrame splits raw into its transport header and P0. It does not look
// inside P0 beyond checking that it is not empty.
func ParseFrame(raw []byte) (Frame, error) {
	if len(raw) < 4 || raw[0] != 0 || raw[1] != 0 || raw[2] != 0 || raw[3] != 3 {
		if len(raw) == 0 {
			return Frame{}, fmt.Errorf("parsing frame: empty: %w", ErrTooShort)
		}
		return Frame{P0: raw}, nil
	}
	n, used, err := readVarLen(raw[4:])
	if err != nil {
		return Frame{}, fmt.Errorf("parsing frame length: %w", err)
	}
	rest := raw[4+used:]
	switch {
	case len(rest) < n:
		return Frame{}, fmt.Errorf("parsing frame: len says %d bytes, %d follow: %w", n, len(rest), ErrTooShort)
	case len(rest) > n:
		return Frame{}, fmt.Errorf("parsing frame: len says %d bytes, %d follow: %w", n, len(rest), ErrLengthMismatch)
	case n < 3:
		return Frame{}, fmt.Errorf("parsing frame: len %d leaves no room for flag and cmd: %w", n, ErrTooShort)
	}
	f := Frame{Framed: true, Flag: rest[0], Cmd: Cmd(binary.BigEndian.Uint16(rest[1:3]))}
	rest = rest[3:]
	if f.Cmd.HasSN() {
		if len(rest) < 4 {
			return Frame{}, fmt.Errorf("parsing frame: cmd %#04x needs a 4-byte sn, %d bytes left: %w", uint16(f.Cmd), len(rest), ErrTooShort)
		}
		f.SN = binary.BigEndian.Uint32(rest)
		rest = rest[4:]
	}
	if len(rest) == 0 {
		return Frame{}, fmt.Errorf("parsing frame: no P0 after the header: %w", ErrTooShort)
	}
	f.P0 = rest
	return f, nil
}

// readVarLen reads an MQTT-style length: 7 bits per byte, least significant
// group first, high bit = another byte follows, at most 4 bytes.
func readVarLen(b []byte) (n, used int, err error) {
	shift := 0
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, fmt.Errorf("length ends after %d bytes: %w", i, ErrTooShort)
		}
		n |= int(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return n, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, fmt.Errorf("length longer than 4 bytes: %w", ErrMalformedFrame)
}

// appendVarLen appends n as an MQTT-style length.
func appendVarLen(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(dst, b)
		}
		dst = append(dst, b|0x80)
	}
}

// AppendFrame appends f as a transport frame (magic, len, flag, cmd, sn when
// the cmd carries one, P0). Framed is ignored: the result is always framed.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	n := 3 + len(f.P0)
	if f.Cmd.HasSN() {
		n += 4
	}
	if n > maxVarLen {
		return dst, fmt.Errorf("encoding frame: %d bytes exceed the 4-byte length: %w", n, ErrMalformedFrame)
	}
	dst = append(dst, magic[:]...)
	dst = appendVarLen(dst, n)
	dst = append(dst, f.Flag, byte(f.Cmd>>8), byte(f.Cmd))
	if f.Cmd.HasSN() {
		dst = binary.BigEndian.AppendUint32(dst, f.SN)
	}
	return append(dst, f.P0...), nil
}
