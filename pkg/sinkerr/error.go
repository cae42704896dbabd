package sinkerr

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels matched by errors.Is on any classified error.
var (
	// ErrRetryable matches every error built with NewRetryable.
	ErrRetryable = errors.New("retryable sink error")
	// ErrPermanent matches every error built with NewPermanent.
	ErrPermanent = errors.New("permanent sink error")
)

// Class is the outcome class of a sink call.
type Class int

const (
	// ClassUnknown is an error that carries no class, such as a cancelled
	// context. Callers should treat it as retryable: blaming a record for an
	// unknown failure would send good data to the DLQ.
	ClassUnknown Class = iota
	// ClassSuccess is a nil error.
	ClassSuccess
	// ClassRetryable failures are the sink's fault (5xx, 429, timeouts, network).
	ClassRetryable
	// ClassPermanent failures are the record's fault (validation, other 4xx).
	ClassPermanent
)

// String returns the class name used in logs and metrics labels.
func (c Class) String() string {
	switch c {
	case ClassSuccess:
		return "success"
	case ClassRetryable:
		return "retryable"
	case ClassPermanent:
		return "permanent"
	default:
		return "unclassified"
	}
}

// Error is a classified sink error. RetryAfter is the delay the sink asked
// for (HTTP Retry-After), zero when it did not ask; it is only meaningful for
// retryable errors.
type Error struct {
	Class      Class
	RetryAfter time.Duration
	Err        error
}

// NewRetryable classifies err as retryable. retryAfter is the delay the sink
// asked for, or zero.
func NewRetryable(err error, retryAfter time.Duration) error {
	if err == nil {
		err = ErrRetryable
	}
	return &Error{Class: ClassRetryable, RetryAfter: retryAfter, Err: err}
}

// NewPermanent classifies err as permanent.
func NewPermanent(err error) error {
	if err == nil {
		err = ErrPermanent
	}
	return &Error{Class: ClassPermanent, Err: err}
}

// Error returns the underlying message prefixed by the class.
func (e *Error) Error() string {
	if e.Class == ClassRetryable && e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s): %v", e.Class, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Class, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match ErrRetryable and ErrPermanent.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrRetryable:
		return e.Class == ClassRetryable
	case ErrPermanent:
		return e.Class == ClassPermanent
	}
	return false
}

// Retryable reports whether err is a retryable sink error and, if so, the
// delay the sink asked for (zero when it did not ask).
func Retryable(err error) (retryAfter time.Duration, ok bool) {
	var e *Error
	if errors.As(err, &e) && e.Class == ClassRetryable {
		return e.RetryAfter, true
	}
	return 0, false
}

// IsPermanent reports whether err is a permanent sink error.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Class == ClassPermanent
}

// Classify returns the class of err: ClassSuccess for nil, the class of the
// outermost classified error in its chain, or ClassUnknown.
func Classify(err error) Class {
	if err == nil {
		return ClassSuccess
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassUnknown
}
