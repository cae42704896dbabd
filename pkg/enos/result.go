package enos

import (
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// Result is the outcome of one Post call, entry by entry: Errs[i] is nil when
// entry i was accepted, a retryable sinkerr error when it was not sent or the
// sink failed (send it again later), or a permanent sinkerr error when EnOS
// rejected it on its own (dead-letter it).
type Result struct {
	Errs []error
}

// OK reports whether every entry was accepted.
func (r Result) OK() bool {
	for _, err := range r.Errs {
		if err != nil {
			return false
		}
	}
	return true
}

// Err returns nil when every entry was accepted; otherwise the first error
// that is not permanent (the sink is failing: back off), or else the first
// permanent one.
func (r Result) Err() error {
	var permanent error
	for _, err := range r.Errs {
		switch {
		case err == nil:
		case sinkerr.IsPermanent(err):
			if permanent == nil {
				permanent = err
			}
		default:
			return err
		}
	}
	return permanent
}

// Rejected returns the indexes of entries with permanent errors.
func (r Result) Rejected() []int {
	var idx []int
	for i, err := range r.Errs {
		if err != nil && sinkerr.IsPermanent(err) {
			idx = append(idx, i)
		}
	}
	return idx
}

// Unsent returns the indexes of entries that failed with an error that is
// not permanent, to be sent again.
func (r Result) Unsent() []int {
	var idx []int
	for i, err := range r.Errs {
		if err != nil && !sinkerr.IsPermanent(err) {
			idx = append(idx, i)
		}
	}
	return idx
}
