package consume

import (
	"context"
	"errors"
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

// CollectBatch is the batch collector of every consumer (Runner, replay):
// it blocks for a first message, then takes whatever arrives until wait
// after that first message, up to size. The deadline counts from the
// first message, not from each one: a steady stream would otherwise keep
// extending the wait until the batch is full, adding size/rate of latency
// at every stage. It returns the batch with nil once it is full, the wait
// is over or ctx ends; or the batch so far with fetch's error, which the
// caller still has to process before handling the error.
func CollectBatch(ctx context.Context, fetch FetchFunc, size int, wait time.Duration) ([]kafka.Message, error) {
	m, err := fetch(ctx)
	if err != nil {
		return nil, fetchErr(ctx, err)
	}
	batch := []kafka.Message{m}
	if size <= 1 {
		return batch, nil
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for len(batch) < size {
		m, err := fetch(fctx)
		if err != nil {
			return batch, fetchErr(fctx, err)
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// fetchErr is nil for the end of a batch (ctx done, or a deadline), err
// otherwise.
func fetchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
