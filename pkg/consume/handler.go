package consume

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// Handler processes a batch of messages. It returns one error per message,
// in order: nil when the message is done, a sinkerr retryable error (or an
// unclassified one) when it should be tried again, a permanent error (see
// Reject) when it must go to the dead-letter topic. Handle may be called
// again with a subset of the batch: the messages that are to be retried.
type Handler interface {
	Handle(ctx context.Context, msgs []kafka.Message) []error
}

// Middleware wraps a Handler with one concern (Watermill's middleware
// style): Retrying, Deduplicating and DeadLettering, one a file. The
// errors a middleware gives for messages it finished itself say so
// (ErrDuplicate, *DeadLetteredError), and OutcomeOf turns any of them into
// the message's Outcome.
type Middleware func(Handler) Handler

// Chain wraps h with mws, the first outermost: Chain(h, a, b) is a(b(h)).
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// call runs h on msgs and checks that it gave one result per message; if
// not, every message gets the same fatal error.
func call(ctx context.Context, h Handler, msgs []kafka.Message) []error {
	errs := h.Handle(ctx, msgs)
	if len(errs) == len(msgs) {
		return errs
	}
	err := fatal(fmt.Errorf("consume: handler returned %d results for %d messages", len(errs), len(msgs)))
	errs = make([]error, len(msgs))
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, msgs []kafka.Message) []error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, msgs []kafka.Message) []error { return f(ctx, msgs) }

// errNotAttempted marks messages skipped because an earlier message with
// the same key failed: sending them first would reorder the device's events.
var errNotAttempted = sinkerr.NewRetryable(errors.New("not attempted: an earlier message of the same key failed"), 0)

// PerKey builds a Handler that processes one message at a time with fn,
// concurrently across keys (at most concurrency keys at once) and in order
// within a key. When a message of a key fails with anything but a permanent
// error, the key's later messages in the batch are not attempted, so a
// device's events never overtake each other at the sink.
func PerKey(concurrency int, fn func(ctx context.Context, msg kafka.Message) error) Handler {
	if concurrency < 1 {
		concurrency = 1
	}
	return HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
		errs := make([]error, len(msgs))
		groups := map[string][]int{}
		var order []string
		for i, m := range msgs {
			k := string(m.Key)
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], i)
		}
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for _, k := range order {
			idx := groups[k]
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				for n, i := range idx {
					err := fn(ctx, msgs[i])
					errs[i] = err
					if err != nil && !sinkerr.IsPermanent(err) {
						for _, j := range idx[n+1:] {
							errs[j] = errNotAttempted
						}
						return
					}
				}
			}()
		}
		wg.Wait()
		return errs
	})
}
