package consume

import (
	"errors"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// Reasoned is implemented by errors that carry a short, stable reason code
// for dead letters ("no_mapping", "no_codec", "rejected", …), so operators
// can count dead letters by cause.
type Reasoned interface {
	Reason() string
}

type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string  { return e.reason + ": " + e.err.Error() }
func (e *reasonError) Unwrap() error  { return e.err }
func (e *reasonError) Reason() string { return e.reason }

// Reject marks err as a permanent failure of the record with a reason code:
// the runner dead-letters the record instead of retrying it.
func Reject(reason string, err error) error {
	return sinkerr.NewPermanent(&reasonError{reason: reason, err: err})
}

// ReasonOf returns the reason code carried by err, or "rejected".
func ReasonOf(err error) string {
	var r Reasoned
	if errors.As(err, &r) {
		return r.Reason()
	}
	return "rejected"
}
