package consume_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
)

func TestCollectBatch(t *testing.T) {
	ctx := context.Background()
	in := make(chan kafka.Message, 10)
	for _, m := range msgs(5) {
		in <- m
	}
	fetch := consume.ChanFetch(in)

	// Full: at most size.
	batch, err := consume.CollectBatch(ctx, fetch, 3, time.Hour)
	if err != nil || len(batch) != 3 || batch[0].Offset != 0 || batch[2].Offset != 2 {
		t.Fatalf("batch %v, %v: want offsets 0..2", batch, err)
	}
	// Short: what arrived within the wait after the first message.
	start := time.Now()
	batch, err = consume.CollectBatch(ctx, fetch, 10, 30*time.Millisecond)
	if err != nil || len(batch) != 2 || batch[0].Offset != 3 {
		t.Fatalf("batch %v, %v: want offsets 3, 4", batch, err)
	}
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("returned after %s, before the 30ms wait was over", took)
	}
	// The wait counts from the first message: a steady trickle does not
	// extend it.
	paced := func(ctx context.Context) (kafka.Message, error) {
		select {
		case <-time.After(2 * time.Millisecond): // a producer's pace, not a wait for a condition
			return kafka.Message{Offset: 100}, nil
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
	}
	start = time.Now()
	batch, err = consume.CollectBatch(ctx, paced, 1_000_000, 50*time.Millisecond)
	took := time.Since(start)
	if err != nil || len(batch) == 0 {
		t.Fatalf("trickle: %d messages, %v", len(batch), err)
	}
	if took > 5*time.Second {
		t.Errorf("a trickle kept the batch open %s; the wait is 50ms from the first message", took)
	}
	// Closed: the batch so far, then ErrSourceClosed.
	in <- kafka.Message{Offset: 7}
	close(in)
	batch, err = consume.CollectBatch(ctx, fetch, 10, time.Hour)
	if !errors.Is(err, consume.ErrSourceClosed) || len(batch) != 1 || batch[0].Offset != 7 {
		t.Fatalf("closed source: %v, %v; want [7] and ErrSourceClosed", batch, err)
	}
	if batch, err = consume.CollectBatch(ctx, fetch, 10, time.Hour); !errors.Is(err, consume.ErrSourceClosed) || len(batch) != 0 {
		t.Fatalf("drained source: %v, %v", batch, err)
	}
	// Cancelled: no error, nothing collected.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if batch, err = consume.CollectBatch(cctx, consume.ChanFetch(make(chan kafka.Message)), 10, time.Hour); err != nil || len(batch) != 0 {
		t.Fatalf("cancelled: %v, %v; want nothing and no error", batch, err)
	}
	// A fetch error ends the batch with the error.
	boom := errors.New("broker gone")
	n := 0
	batch, err = consume.CollectBatch(ctx, func(context.Context) (kafka.Message, error) {
		if n++; n > 2 {
			return kafka.Message{}, boom
		}
		return kafka.Message{Offset: int64(n)}, nil
	}, 10, time.Hour)
	if !errors.Is(err, boom) || len(batch) != 2 {
		t.Fatalf("fetch error: %v, %v; want 2 messages and the error", batch, err)
	}
}
