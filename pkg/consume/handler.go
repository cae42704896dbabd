package consume

import (
	"context"
	"errors"
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
