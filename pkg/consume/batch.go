package consume

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// FetchFunc returns the next message, blocking until there is one or ctx
// ends. kafka.Reader.FetchMessage is one; ChanFetch makes one of a
// channel.
type FetchFunc func(ctx context.Context) (kafka.Message, error)

// ErrSourceClosed is what ChanFetch's function returns once its channel is
// closed and drained.
var ErrSourceClosed = errors.New("consume: message source closed")

// ChanFetch fetches from in; after in is closed it returns
// ErrSourceClosed.
func ChanFetch(in <-chan kafka.Message) FetchFunc {
	return func(ctx context.Context) (kafka.Message, error) {
		select {
		case m, ok := <-in:
			if !ok {
				return kafka.Message{}, ErrSourceClosed
			}
			return m, nil
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
	}
}

// DefaultBatchLinger is the linger of the consuming stages' batches
// (Batching.Linger) unless configured otherwise.
const DefaultBatchLinger = time.Millisecond

// MaxBatchLinger is the longest linger a stage's configuration may set:
// the default BatchWait, beyond which a linger changes nothing.
const MaxBatchLinger = 20 * time.Millisecond

// ConfiguredLinger turns a linger read from a stage's environment, where 0
// means none, into Config.BatchLinger, where none is negative (0 there is
// the default).
func ConfiguredLinger(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Batching is how every consumer (Runner, replay) cuts the messages it
// fetches into batches; Collect is the one batch collector. A batch starts
// with the first message, however long it takes to come, and ends at the
// first of:
//   - Size messages (a backlog: fetching never waits, batches are full);
//   - no further message within Linger of the last one (the reader's queue
//     is drained: under a steady stream a batch is what arrived in one
//     fetch, so a stage adds about Linger of latency, not Size/rate);
//   - Wait after the first message, an upper bound that a trickle faster
//     than Linger cannot extend.
type Batching struct {
	Size int // most messages per batch; 1 or less: every message alone
	// Wait bounds a batch's collection from its first message.
	Wait time.Duration
	// Linger ends a batch once no message arrived within it; 0 or at least
	// Wait leaves only Wait.
	Linger time.Duration
}

// Collect blocks for a first message, then takes what follows as b says.
// It returns the batch with nil once the batch is complete or ctx ends;
// or the batch so far with fetch's error, which the caller still has to
// process before handling the error.
//
// Whatever the batch's length, it costs one context and two timers: each
// further message only records when it came (a clock read and an atomic
// store, a few times cheaper than resetting a timer), and the linger
// timer, when it fires, either ends the batch or sets itself again for the
// rest of the linger after the last message.
func (b Batching) Collect(ctx context.Context, fetch FetchFunc) ([]kafka.Message, error) {
	m, err := fetch(ctx)
	if err != nil {
		return nil, fetchErr(ctx, err)
	}
	batch := []kafka.Message{m}
	if b.Size <= 1 {
		return batch, nil
	}
	start := time.Now()
	fctx, cancel := context.WithTimeout(ctx, b.Wait)
	defer cancel()
	lingering := b.Linger > 0 && b.Linger < b.Wait
	var last atomic.Int64 // time.Since(start) of the last message
	if lingering {
		var t *time.Timer
		t = time.AfterFunc(b.Linger, func() {
			if rest := b.Linger - (time.Since(start) - time.Duration(last.Load())); rest > 0 {
				t.Reset(rest)
				return
			}
			// A message that wins the race against this is still taken:
			// a fetch returns a message or the context's error, never
			// loses one.
			cancel()
		})
		defer t.Stop()
	}
	for len(batch) < b.Size {
		m, err := fetch(fctx)
		if err != nil {
			return batch, fetchErr(fctx, err)
		}
		batch = append(batch, m)
		if lingering {
			last.Store(int64(time.Since(start)))
		}
	}
	return batch, nil
}

// fetchErr is nil for the end of a batch (ctx done: cancelled, the wait or
// the linger over), err otherwise.
func fetchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
