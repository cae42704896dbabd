package consume_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// windowSink is an AsyncHandler that gathers each partition's messages into
// a window and "uploads" a window when it holds size messages, every 50ms,
// and when its input closes. The upload fails while the sink is down; the handler then
// retries, holding the window. Values divisible by 50 are rejected.
type windowSink struct {
	size int

	mu       sync.Mutex
	down     bool
	failures int
	stored   map[int]map[int64]string // partition → offset → value
	rejected int
}

func newWindowSink(size int) *windowSink {
	return &windowSink{size: size, stored: map[int]map[int64]string{}}
}

func (s *windowSink) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

func (s *windowSink) upload(msgs []kafka.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.failures++
		return errors.New("sink down")
	}
	for _, m := range msgs {
		if s.stored[m.Partition] == nil {
			s.stored[m.Partition] = map[int64]string{}
		}
		s.stored[m.Partition][m.Offset] = string(m.Value)
	}
	return nil
}

func (s *windowSink) flush(ctx context.Context, msgs []kafka.Message, acks consume.Acks) error {
	for s.upload(msgs) != nil {
		select {
		case <-ctx.Done():
			return ctx.Err() // left uncommitted
		case <-time.After(10 * time.Millisecond):
		}
	}
	acks.Done(msgs...)
	return nil
}

func (s *windowSink) Run(ctx context.Context, in <-chan kafka.Message, acks consume.Acks) error {
	windows := map[int][]kafka.Message{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var m kafka.Message
		select {
		case <-tick.C:
			for p, w := range windows {
				if err := s.flush(ctx, w, acks); err != nil {
					return err
				}
				delete(windows, p)
			}
			continue
		case msg, ok := <-in:
			if !ok {
				return s.flushAll(ctx, windows, acks)
			}
			m = msg
		}
		var v int
		if _, err := fmt.Sscan(string(m.Value), &v); err != nil {
			return fmt.Errorf("value %q: %w", m.Value, err)
		}
		if v%50 == 0 {
			if err := acks.Reject(ctx, m, consume.Reject("divisible", fmt.Errorf("value %d", v))); err != nil {
				return err
			}
			s.mu.Lock()
			s.rejected++
			s.mu.Unlock()
			continue
		}
		windows[m.Partition] = append(windows[m.Partition], m)
		if len(windows[m.Partition]) >= s.size {
			if err := s.flush(ctx, windows[m.Partition], acks); err != nil {
				return err
			}
			delete(windows, m.Partition)
		}
	}
}

// flushAll uploads the partial windows, within the drain budget once the
// input is closed.
func (s *windowSink) flushAll(ctx context.Context, windows map[int][]kafka.Message, acks consume.Acks) error {
	for p, w := range windows {
		if err := s.flush(ctx, w, acks); err != nil {
			return err
		}
		delete(windows, p)
	}
	return nil
}

func (s *windowSink) stats() (stored, rejected, failures int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.stored {
		stored += len(p)
	}
	return stored, s.rejected, s.failures
}

// holds reports whether every offset below end on partition p is stored or
// rejected (rejected ones are those divisible by 50 among produced values).
func (s *windowSink) holdsBelow(p int, end int64, rejectedOffsets map[int]map[int64]bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for off := int64(0); off < end; off++ {
		if _, ok := s.stored[p][off]; !ok && !rejectedOffsets[p][off] {
			return false
		}
	}
	return true
}

// startAsync runs an async runner of h on f (stage "test-async", retries
// 10 to 50 ms apart, commits every 20 ms) until stop is called.
func (f fixture) startAsync(t *testing.T, h consume.AsyncHandler, maxPending int, drain time.Duration) (stop func()) {
	t.Helper()
	cfg := f.asyncConfig()
	cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	cfg.MaxPending, cfg.CommitInterval, cfg.DrainTimeout = maxPending, 20*time.Millisecond, drain
	codec, _ := records.NewCodec()
	r, err := consume.NewAsync(cfg, f.kc, h, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return runInBackground(t, "async runner", r.Run)
}

// asyncConfig is an async runner of stage "test-async" on f's input,
// group and DLQ, with the defaults otherwise.
func (f fixture) asyncConfig() consume.AsyncConfig {
	return consume.AsyncConfig{
		ProcessorConfig: consume.ProcessorConfig{Stage: "test-async", DLQTopic: f.dlq},
		GroupID:         f.group, Topics: []string{f.in},
	}
}

func TestAsyncRunnerOutageRestartAndDeadLetters(t *testing.T) {
	const n = 600
	f := newFixture(t, 3, n)
	kc, in, dlq, group := f.kc, f.in, f.dlq, f.group

	// Where each value landed, to know which offsets hold rejected values.
	all := kafkatest.ReadN(t, kc.Brokers, in, n, time.Minute)
	rejectedAt := map[int]map[int64]bool{}
	for _, m := range all {
		var v int
		if _, err := fmt.Sscan(string(m.Value), &v); err != nil {
			t.Fatalf("value %q: %v", m.Value, err)
		}
		if v%50 == 0 {
			if rejectedAt[m.Partition] == nil {
				rejectedAt[m.Partition] = map[int64]bool{}
			}
			rejectedAt[m.Partition][m.Offset] = true
		}
	}
	// Offsets are committed only past what the sink holds or dead-lettered.
	s := newWindowSink(40)
	checkCommits := func(when string) {
		t.Helper()
		for p, c := range committedPerPartition(t, kc, group, in) {
			if !s.holdsBelow(p, c, rejectedAt) {
				t.Fatalf("%s: partition %d committed to %d but the sink lacks an earlier record", when, p, c)
			}
		}
	}

	s.setDown(true)
	stop := f.startAsync(t, s, 200, 10*time.Second)
	testkit.Eventually(t, time.Minute, "failed uploads during the outage", func() bool { _, _, f := s.stats(); return f >= 5 })
	checkCommits("during the outage")
	if c := committedPerPartition(t, kc, group, in); c[0]+c[1]+c[2] > int64(n/50) {
		// Only rejected records can be done while the sink is down, and only
		// those at the head of a partition are committable.
		t.Fatalf("committed %v during the outage", c)
	}
	s.setDown(false)
	testkit.Eventually(t, time.Minute, "some records stored", func() bool { st, _, _ := s.stats(); return st >= n/3 })
	stop() // mid-stream: the partial windows are uploaded on the way out
	checkCommits("after a stop mid-stream")

	stop = f.startAsync(t, s, 200, 10*time.Second)
	testkit.Eventually(t, 2*time.Minute, "every good record stored", func() bool { st, _, _ := s.stats(); return st == n-n/50 })
	testkit.Eventually(t, time.Minute, "offsets committed to the end", func() bool {
		c := committedPerPartition(t, kc, group, in)
		return c[0]+c[1]+c[2] == n
	})
	stop()
	checkCommits("at the end")

	// The DLQ holds the rejected records (possibly twice: a rejection done
	// but not committed before the stop is redelivered).
	codec, _ := records.NewCodec()
	bad := map[string]bool{}
	for _, m := range kafkatest.ReadN(t, kc.Brokers, dlq, n/50, time.Minute) {
		var dl records.DeadLetter
		if err := codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		if dl.Reason != "divisible" || dl.Stage != "test-async" {
			t.Errorf("dead letter %+v", dl)
		}
		bad[string(dl.Value)] = true
	}
	if len(bad) != n/50 {
		var got []string
		for v := range bad {
			got = append(got, v)
		}
		sort.Strings(got)
		t.Errorf("dead letters %v, want the %d values divisible by 50", got, n/50)
	}
}

// boundedHandler receives and never finishes until told to, recording the
// most messages it held at once.
func TestAsyncRunnerBoundsPending(t *testing.T) {
	const n, maxPending = 300, 50
	f := newFixture(t, 1, n)

	var (
		mu       sync.Mutex
		held     []kafka.Message
		received int
	)
	release := make(chan int)
	h := consume.AsyncHandlerFunc(func(ctx context.Context, msgs <-chan kafka.Message, acks consume.Acks) error {
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return nil
				}
				mu.Lock()
				held = append(held, m)
				received++
				mu.Unlock()
			case k := <-release:
				mu.Lock()
				acks.Done(held[:k]...)
				held = held[k:]
				mu.Unlock()
			}
		}
	})
	got := func() int { mu.Lock(); defer mu.Unlock(); return received }
	stop := f.startAsync(t, h, maxPending, time.Second)
	defer stop()
	testkit.Eventually(t, time.Minute, "the tracker to fill", func() bool { return got() >= maxPending })
	// Fetching is paused: releasing 10 lets exactly 10 more in.
	release <- 10
	testkit.Eventually(t, time.Minute, "10 more after the release", func() bool { return got() >= maxPending+10 })
	for range 5 {
		release <- 0 // a round trip through the handler's loop
	}
	if r := got(); r != maxPending+10 {
		t.Fatalf("received %d, want %d: the bound of %d pending was not kept", r, maxPending+10, maxPending)
	}
	testkit.Eventually(t, time.Minute, "the first 10 committed", func() bool { return committedPerPartition(t, f.kc, f.group, f.in)[0] == 10 })
}

func TestAsyncRunnerReadyWhileIdle(t *testing.T) {
	f := newFixture(t, 1, 0)
	codec, _ := records.NewCodec()
	r, err := consume.NewAsync(f.asyncConfig(), f.kc, consume.AsyncHandlerFunc(func(ctx context.Context, msgs <-chan kafka.Message, acks consume.Acks) error {
		for m := range msgs {
			acks.Done(m)
		}
		return nil
	}), codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready(context.Background()) == nil {
		t.Fatal("ready before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	testkit.Eventually(t, 10*time.Second, "ready on an idle topic", func() bool { return r.Ready(context.Background()) == nil })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
