package consume_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
)

// paced returns a fetch that yields n messages, one every gap (a
// producer's pace, not a wait for a condition), then blocks until ctx
// ends.
func paced(n int, gap time.Duration) consume.FetchFunc {
	sent := 0
	return func(ctx context.Context) (kafka.Message, error) {
		if sent == n {
			<-ctx.Done()
			return kafka.Message{}, ctx.Err()
		}
		select {
		case <-time.After(gap):
			sent++
			return kafka.Message{Offset: int64(sent)}, nil
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
	}
}

func TestBatchingCollect(t *testing.T) {
	ctx := context.Background()
	in := make(chan kafka.Message, 10)
	for _, m := range msgs(5) {
		in <- m
	}
	fetch := consume.ChanFetch(in)

	// Full: at most Size.
	batch, err := consume.Batching{Size: 3, Wait: time.Hour}.Collect(ctx, fetch)
	if err != nil || len(batch) != 3 || batch[0].Offset != 0 || batch[2].Offset != 2 {
		t.Fatalf("batch %v, %v: want offsets 0..2", batch, err)
	}
	// Short, without a linger: what arrived within Wait after the first
	// message.
	start := time.Now()
	batch, err = consume.Batching{Size: 10, Wait: 30 * time.Millisecond}.Collect(ctx, fetch)
	if err != nil || len(batch) != 2 || batch[0].Offset != 3 {
		t.Fatalf("batch %v, %v: want offsets 3, 4", batch, err)
	}
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("returned after %s, before the 30ms wait was over", took)
	}
	// Closed: the batch so far, then ErrSourceClosed.
	in <- kafka.Message{Offset: 7}
	close(in)
	b := consume.Batching{Size: 10, Wait: time.Hour, Linger: time.Hour}
	batch, err = b.Collect(ctx, fetch)
	if !errors.Is(err, consume.ErrSourceClosed) || len(batch) != 1 || batch[0].Offset != 7 {
		t.Fatalf("closed source: %v, %v; want [7] and ErrSourceClosed", batch, err)
	}
	if batch, err = b.Collect(ctx, fetch); !errors.Is(err, consume.ErrSourceClosed) || len(batch) != 0 {
		t.Fatalf("drained source: %v, %v", batch, err)
	}
	// Cancelled: no error, nothing collected.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if batch, err = b.Collect(cctx, consume.ChanFetch(make(chan kafka.Message))); err != nil || len(batch) != 0 {
		t.Fatalf("cancelled: %v, %v; want nothing and no error", batch, err)
	}
	// A fetch error ends the batch with the error.
	boom := errors.New("broker gone")
	n := 0
	batch, err = consume.Batching{Size: 10, Wait: time.Hour, Linger: 10 * time.Minute}.Collect(ctx, func(context.Context) (kafka.Message, error) {
		if n++; n > 2 {
			return kafka.Message{}, boom
		}
		return kafka.Message{Offset: int64(n)}, nil
	})
	if !errors.Is(err, boom) || len(batch) != 2 {
		t.Fatalf("fetch error: %v, %v; want 2 messages and the error", batch, err)
	}
}

// TestBatchingLingerEndsABatchEarly: once the source has nothing more, a
// batch ends after the linger, not after Wait (an hour here).
func TestBatchingLingerEndsABatchEarly(t *testing.T) {
	in := make(chan kafka.Message, 10)
	for _, m := range msgs(3) {
		in <- m
	}
	start := time.Now()
	batch, err := consume.Batching{Size: 1000, Wait: time.Hour, Linger: 5 * time.Millisecond}.Collect(context.Background(), consume.ChanFetch(in))
	if err != nil || len(batch) != 3 {
		t.Fatalf("batch %v, %v: want the 3 messages ready", batch, err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the batch ended after %s; the linger is 5ms", took)
	}
}

// TestBatchingLingerCountsFromTheLastMessage: a message arriving within
// the linger keeps the batch open; the linger is not a deadline from the
// first message.
func TestBatchingLingerCountsFromTheLastMessage(t *testing.T) {
	const n = 30 // 5ms apart: 150ms, three lingers
	batch, err := consume.Batching{Size: 1000, Wait: time.Hour, Linger: 50 * time.Millisecond}.Collect(context.Background(), paced(n, 5*time.Millisecond))
	if err != nil || len(batch) != n {
		t.Fatalf("%d messages, %v: want all %d, each within the linger of the one before", len(batch), err, n)
	}
}

// TestBatchingWaitBoundsALinger: a trickle faster than the linger does not
// keep a batch open beyond Wait from its first message.
func TestBatchingWaitBoundsALinger(t *testing.T) {
	start := time.Now()
	batch, err := consume.Batching{Size: 1_000_000, Wait: 50 * time.Millisecond, Linger: 40 * time.Millisecond}.Collect(context.Background(), paced(1_000_000, 2*time.Millisecond))
	took := time.Since(start)
	if err != nil || len(batch) < 2 {
		t.Fatalf("trickle: %d messages, %v", len(batch), err)
	}
	if took > 5*time.Second {
		t.Errorf("a trickle kept the batch open %s; the wait is 50ms from the first message", took)
	}
}

// BenchmarkBatchingCollect is the collector's own cost per message, with
// and without a linger, over a source that always has the next message
// (a backlog: every batch is full).
func BenchmarkBatchingCollect(b *testing.B) {
	for _, linger := range []time.Duration{-1, time.Millisecond} {
		b.Run(fmt.Sprintf("linger=%s", linger), func(b *testing.B) {
			const size = 500
			m := kafka.Message{Topic: "t"}
			fetch := func(context.Context) (kafka.Message, error) { return m, nil }
			bt := consume.Batching{Size: size, Wait: time.Second, Linger: linger}
			b.ReportAllocs()
			for b.Loop() {
				if batch, err := bt.Collect(context.Background(), fetch); err != nil || len(batch) != size {
					b.Fatalf("%d, %v", len(batch), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/message")
		})
	}
}

// TestConfiguredLingerZeroIsNone: a stage configured with a linger of 0
// (DECODER_BATCH_LINGER=0) has none, not the default: messages 20 ms
// apart all land in one batch, which only Size ends here.
func TestConfiguredLingerZeroIsNone(t *testing.T) {
	if got := consume.ConfiguredLinger(3 * time.Millisecond); got != 3*time.Millisecond {
		t.Errorf("ConfiguredLinger(3ms) = %s", got)
	}
	// Config.BatchLinger 0 is the default linger; none is negative.
	if got := consume.ConfiguredLinger(0); got >= 0 {
		t.Errorf("ConfiguredLinger(0) = %s, want a negative Config.BatchLinger (none)", got)
	}
	batch, err := consume.Batching{Size: 5, Wait: time.Hour, Linger: consume.ConfiguredLinger(0)}.Collect(context.Background(), paced(5, 20*time.Millisecond))
	if err != nil || len(batch) != 5 {
		t.Fatalf("%d messages, %v: want all 5, no linger ending the batch between them", len(batch), err)
	}
}
