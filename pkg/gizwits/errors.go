package gizwits

import "errors"

// Errors a caller branches on (match with errors.Is); they are wrapped with
// the details.
var (
	// ErrTooShort: the frame or payload ends before the definition says it should.
	ErrTooShort = errors.New("payload too short")
	// ErrLengthMismatch: the frame's len field or the payload size disagrees
	// with the bytes received or with the definition.
	ErrLengthMismatch = errors.New("length mismatch")
	// ErrMalformedFrame: the transport header itself is invalid.
	ErrMalformedFrame = errors.New("malformed frame")
	// ErrValueMismatch: a key/value status does not fit the definition.
	ErrValueMismatch = errors.New("value does not fit the definition")
)
