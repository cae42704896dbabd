package devcodec

import "errors"

// Errors a caller branches on (match with errors.Is); they are wrapped with
// the details.
var (
	// ErrTooShort: the payload ends before a field of the message.
	ErrTooShort = errors.New("payload too short")
	// ErrLengthMismatch: the message has a fixed length the payload does not have.
	ErrLengthMismatch = errors.New("length mismatch")
	// ErrUnknownMessage: no message matches the dispatch bytes.
	ErrUnknownMessage = errors.New("unknown message")
)
