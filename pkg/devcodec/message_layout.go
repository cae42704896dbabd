package devcodec

import (
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// messageLayout is a compiled message kind.
type messageLayout struct {
	name     string
	match    uint64
	hasMatch bool
	length   int // exact payload length, 0 = any length ≥ minLen
	minLen   int
	fields   []field
}

// decode appends the message's fields read from payload.
func (m *messageLayout) decode(dst []value.Field, payload []byte) ([]value.Field, error) {
	if m.length > 0 && len(payload) != m.length {
		err := ErrLengthMismatch
		if len(payload) < m.length {
			err = ErrTooShort
		}
		return dst, fmt.Errorf("message %q is %d bytes, payload has %d: %w", m.name, m.length, len(payload), err)
	}
	if len(payload) < m.minLen {
		return dst, fmt.Errorf("message %q needs %d bytes, payload has %d: %w", m.name, m.minLen, len(payload), ErrTooShort)
	}
	for i := range m.fields {
		dst = append(dst, value.Field{Name: m.fields[i].name, Value: m.fields[i].decode(payload)})
	}
	return dst, nil
}
