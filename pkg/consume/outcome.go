package consume

import (
	"errors"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// Result is what became of one message of a batch.
type Result uint8

// The results of a message. Every result but Failed is done: the message's
// offset may be committed.
const (
	// Failed: not done. The context ended while the sink kept failing, or
	// a fatal error (a broken handler, a dead letter that cannot be
	// encoded) stopped the batch; the message is delivered again.
	Failed Result = iota
	// Sent: the handler finished it (its effect is durable at the sink).
	Sent
	// Duplicate: its event_id was finished already, in an earlier batch or
	// earlier in this one; the handler was not given it.
	Duplicate
	// DeadLettered: the handler rejected it with a permanent error and it
	// is written to the dead-letter topic.
	DeadLettered
)

// String is the result's name in reports: failed, sent, duplicate,
// dead_lettered.
func (r Result) String() string {
	switch r {
	case Sent:
		return "sent"
	case Duplicate:
		return "duplicate"
	case DeadLettered:
		return "dead_lettered"
	default:
		return "failed"
	}
}

// label is the result's value of the outcome label of
// snotibridge_consumer_messages_total.
func (r Result) label() string {
	switch r {
	case Sent:
		return "success"
	case Duplicate:
		return "duplicate"
	case DeadLettered:
		return "dead_letter"
	default:
		return "failed"
	}
}

// Outcome is the fate of one message of a batch, as Processor.Process
// reports it (in the spirit of Benthos's per-message BatchError).
type Outcome struct {
	Result Result
	// Err is, for DeadLettered, the handler's permanent error (ReasonOf
	// gives its reason code); for Failed, the last error; nil otherwise.
	Err error
}

// Done reports whether the message is finished, so its offset may be
// committed.
func (o Outcome) Done() bool { return o.Result != Failed }

// Reason is the dead-letter reason code of a DeadLettered outcome, "" for
// the others.
func (o Outcome) Reason() string {
	if o.Result != DeadLettered {
		return ""
	}
	return ReasonOf(o.Err)
}

// Done returns which outcomes are done, for ContiguousDone.
func Done(outcomes []Outcome) []bool {
	done := make([]bool, len(outcomes))
	for i, o := range outcomes {
		done[i] = o.Done()
	}
	return done
}

// ErrDuplicate is the error Deduplicating gives for a message it did not
// hand to the handler because its event_id is finished (or is earlier in
// the same batch). It means done, not failed.
var ErrDuplicate = errors.New("consume: duplicate event_id")

// DeadLetteredError is the error DeadLettering gives for a message it
// wrote to the dead-letter topic. It means done, not failed; Err is the
// handler's permanent error.
type DeadLetteredError struct{ Err error }

func (e *DeadLetteredError) Error() string { return "dead-lettered: " + e.Err.Error() }
func (e *DeadLetteredError) Unwrap() error { return e.Err }

// fatalError stops a batch: retrying cannot fix it (a handler returning
// the wrong number of results, a dead letter that cannot be encoded).
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatal(err error) error { return &fatalError{err: err} }

// isFatal reports whether err stops the batch.
func isFatal(err error) bool {
	var f *fatalError
	return errors.As(err, &f)
}

// OutcomeOf turns the error a Handler (wrapped by the middlewares of this
// package) gave for one message into its outcome.
func OutcomeOf(err error) Outcome {
	var dl *DeadLetteredError
	switch {
	case err == nil:
		return Outcome{Result: Sent}
	case errors.Is(err, ErrDuplicate):
		return Outcome{Result: Duplicate}
	case errors.As(err, &dl):
		return Outcome{Result: DeadLettered, Err: dl.Err}
	default:
		return Outcome{Result: Failed, Err: err}
	}
}

// isDone reports whether a handler's error for a message means it is
// finished: nil, a duplicate or a dead letter.
func isDone(err error) bool { return OutcomeOf(err).Done() }

// retryable reports whether a handler's error for a message asks for
// another attempt: not done, not permanent, not fatal.
func retryable(err error) bool {
	return !isDone(err) && !isFatal(err) && !sinkerr.IsPermanent(err)
}
