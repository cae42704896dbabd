package consume_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// trackedAcks is an Acks over a Tracker, recording what was reported.
type trackedAcks struct {
	t        *testing.T
	tracker  *consume.Tracker
	mu       sync.Mutex
	done     []kafka.Message
	rejected []kafka.Message
}

func (a *trackedAcks) Done(msgs ...kafka.Message) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range msgs {
		if err := a.tracker.Done(m); err != nil {
			a.t.Errorf("Done(%d): %v", m.Offset, err)
		}
		a.done = append(a.done, m)
	}
}

func (a *trackedAcks) Reject(_ context.Context, m kafka.Message, _ error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.tracker.Done(m); err != nil {
		a.t.Errorf("Reject(%d): %v", m.Offset, err)
	}
	a.rejected = append(a.rejected, m)
	return nil
}

func (a *trackedAcks) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.done) + len(a.rejected)
}

// keyedHarness runs a Keyed handler over one partition, fed in offset order.
type keyedHarness struct {
	t      *testing.T
	acks   *trackedAcks
	in     chan kafka.Message
	offset int64
	ran    chan error
	cancel context.CancelFunc
	closed bool
}

func startKeyed(t *testing.T, cfg consume.KeyedConfig, fn func(ctx context.Context, m kafka.Message) error) *keyedHarness {
	t.Helper()
	k, err := consume.NewKeyed(cfg, fn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &keyedHarness{t: t, acks: &trackedAcks{t: t, tracker: consume.NewTracker(1000)}, in: make(chan kafka.Message), ran: make(chan error, 1), cancel: cancel}
	go func() { h.ran <- k.Run(ctx, h.in, h.acks) }()
	t.Cleanup(func() { _ = h.stop() })
	return h
}

// send feeds one message of key with event id id ("" for none).
func (h *keyedHarness) send(key, id string) kafka.Message {
	h.t.Helper()
	m := kafka.Message{Topic: "t", Partition: 0, Offset: h.offset, Key: []byte(key), Value: []byte(fmt.Sprintf("%s#%d", key, h.offset))}
	if id != "" {
		m.Headers = []kafka.Header{{Key: "event_id", Value: []byte(id)}}
	}
	h.offset++
	if _, err := h.acks.tracker.Add(context.Background(), m); err != nil {
		h.t.Fatal(err)
	}
	select {
	case h.in <- m:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the handler does not take messages")
	}
	return m
}

// stop closes the input and waits for Run.
func (h *keyedHarness) stop() error {
	if h.closed {
		return nil
	}
	h.closed = true
	close(h.in)
	defer h.cancel()
	select {
	case err := <-h.ran:
		return err
	case <-time.After(20 * time.Second):
		h.t.Fatal("Run did not return after its input was closed")
		return nil
	}
}

// committable is the offset the tracker would commit up to (-1: none).
func committable(tr *consume.Tracker, last *int64) int64 {
	for _, m := range tr.Committable() {
		*last = m.Offset
	}
	return *last
}

// calls records fn's calls in order.
type calls struct {
	mu  sync.Mutex
	got []string
}

func (c *calls) add(m kafka.Message) {
	c.mu.Lock()
	c.got = append(c.got, string(m.Value))
	c.mu.Unlock()
}

func (c *calls) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TestKeyedSlowKeyDoesNotHoldOthers: while key a's first message is stuck
// at the sink, the other keys' later messages are sent and done; a's next
// message waits for its first; the commit stays before a's first until it
// is done.
func TestKeyedSlowKeyDoesNotHoldOthers(t *testing.T) {
	release := make(chan struct{})
	var c calls
	h := startKeyed(t, consume.KeyedConfig{Concurrency: 2}, func(ctx context.Context, m kafka.Message) error {
		c.add(m)
		if string(m.Value) == "a#0" {
			<-release
		}
		return nil
	})
	h.send("a", "")
	for i := range 20 {
		h.send(fmt.Sprintf("k%d", i%5), "")
	}
	h.send("a", "") // a#21
	for i := range 20 {
		h.send(fmt.Sprintf("k%d", i%5), "")
	}
	testkit.Eventually(t, 10*time.Second, "the other keys' 40 messages done", func() bool { return h.acks.count() == 40 })
	if got := c.list(); indexOf(got, "a#21") >= 0 {
		t.Fatalf("a's second message was sent while its first was stuck: %v", got)
	}
	last := int64(-1)
	if off := committable(h.acks.tracker, &last); off != -1 {
		t.Fatalf("committable up to %d while offset 0 is not done", off)
	}
	close(release)
	testkit.Eventually(t, 10*time.Second, "everything done", func() bool { return h.acks.count() == 42 })
	if off := committable(h.acks.tracker, &last); off != 41 {
		t.Fatalf("committable up to %d, want 41", off)
	}
	got := c.list()
	if indexOf(got, "a#0") > indexOf(got, "a#21") {
		t.Fatalf("a's messages out of order: %v", got)
	}
	// Within each key the order is the offsets'.
	seen := map[string]int{}
	for _, v := range got {
		var key string
		var off int
		if _, err := fmt.Sscanf(v, "%2s#%d", &key, &off); err != nil {
			continue
		}
		if off < seen[key] {
			t.Fatalf("key %s: %s after offset %d: %v", key, v, seen[key], got)
		}
		seen[key] = off
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestKeyedFailingKeyRetriedBeforeItsLaterMessages: a key's message fails
// retryably twice; it is retried, its later message is not sent before it
// succeeded, and the other keys are not held meanwhile.
func TestKeyedFailingKeyRetriedBeforeItsLaterMessages(t *testing.T) {
	var c calls
	var mu sync.Mutex
	failures := 0
	h := startKeyed(t, consume.KeyedConfig{Concurrency: 2, Backoff: consume.Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond}}, func(ctx context.Context, m kafka.Message) error {
		c.add(m)
		if string(m.Value) == "a#0" {
			mu.Lock()
			defer mu.Unlock()
			if failures < 2 {
				failures++
				return sinkerr.NewRetryable(errors.New("503"), 0)
			}
		}
		return nil
	})
	h.send("a", "")
	h.send("a", "")
	for range 10 {
		h.send("b", "")
	}
	testkit.Eventually(t, 10*time.Second, "all done", func() bool { return h.acks.count() == 12 })
	got := c.list()
	var a []string
	for _, v := range got {
		if v[0] == 'a' {
			a = append(a, v)
		}
	}
	if fmt.Sprint(a) != "[a#0 a#0 a#0 a#1]" {
		t.Fatalf("key a's attempts %v, want a#0 three times, then a#1", a)
	}
	last := int64(-1)
	if off := committable(h.acks.tracker, &last); off != 11 {
		t.Fatalf("committable up to %d, want 11", off)
	}
}

// TestKeyedPermanentAndDuplicates: a permanent failure is rejected and the
// key goes on; a duplicate event_id (pending or finished) is done without
// being sent.
func TestKeyedPermanentAndDuplicates(t *testing.T) {
	release := make(chan struct{})
	var c calls
	h := startKeyed(t, consume.KeyedConfig{Concurrency: 4}, func(ctx context.Context, m kafka.Message) error {
		c.add(m)
		switch string(m.Value) {
		case "a#0":
			<-release
		case "b#3":
			return consume.Reject("bad", errors.New("refused"))
		}
		return nil
	})
	h.send("a", "e1")
	h.send("a", "e1") // pending copy
	testkit.Eventually(t, 10*time.Second, "the pending copy done", func() bool { return h.acks.count() == 1 })
	close(release)
	testkit.Eventually(t, 10*time.Second, "the first copy done", func() bool { return h.acks.count() == 2 })
	h.send("a", "e1") // finished copy
	h.send("b", "e2")
	h.send("b", "e3") // rejected
	h.send("b", "e4")
	h.send("b", "") // no event id: always sent
	h.send("b", "")
	testkit.Eventually(t, 10*time.Second, "all done", func() bool { return h.acks.count() == 8 })
	if got := c.list(); len(got) != 6 {
		t.Fatalf("sent %v", got)
	}
	got := c.list()
	if indexOf(got, "a#1") >= 0 || indexOf(got, "a#2") >= 0 {
		t.Fatalf("a duplicate was sent: %v", got)
	}
	if indexOf(got, "b#3") > indexOf(got, "b#4") || indexOf(got, "b#4") < 0 {
		t.Fatalf("b's order: %v", got)
	}
	h.acks.mu.Lock()
	rejected := len(h.acks.rejected)
	h.acks.mu.Unlock()
	if rejected != 1 {
		t.Fatalf("%d rejected, want 1", rejected)
	}
	last := int64(-1)
	if off := committable(h.acks.tracker, &last); off != 7 {
		t.Fatalf("committable up to %d, want 7", off)
	}
}

// TestKeyedStopsWhileRetrying: closing the input while a key keeps failing
// returns promptly; the failing message and its key's later ones are not
// done.
func TestKeyedStopsWhileRetrying(t *testing.T) {
	h := startKeyed(t, consume.KeyedConfig{Backoff: consume.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}}, func(ctx context.Context, m kafka.Message) error {
		if m.Key[0] == 'a' {
			return sinkerr.NewRetryable(errors.New("down"), 0)
		}
		return nil
	})
	h.send("a", "")
	h.send("a", "")
	h.send("b", "")
	testkit.Eventually(t, 10*time.Second, "b done", func() bool { return h.acks.count() == 1 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	last := int64(-1)
	if off := committable(h.acks.tracker, &last); off != -1 || h.acks.count() != 1 {
		t.Fatalf("committable up to %d, %d done; want nothing committable and only b done", off, h.acks.count())
	}
}

// TestKeyedRetryAfterHoldsEveryKey: a Retry-After from the sink holds the
// other keys too until it has passed.
func TestKeyedRetryAfterHoldsEveryKey(t *testing.T) {
	var mu sync.Mutex
	var refusedAt, otherAt time.Time
	h := startKeyed(t, consume.KeyedConfig{Concurrency: 2, Backoff: consume.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond, MaxWait: time.Minute}}, func(ctx context.Context, m kafka.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if string(m.Value) == "a#0" && refusedAt.IsZero() {
			refusedAt = time.Now()
			return sinkerr.NewRetryable(errors.New("429"), 300*time.Millisecond)
		}
		if m.Key[0] == 'b' && otherAt.IsZero() {
			otherAt = time.Now()
		}
		return nil
	})
	h.send("a", "")
	testkit.Eventually(t, 10*time.Second, "a refused", func() bool { mu.Lock(); defer mu.Unlock(); return !refusedAt.IsZero() })
	h.send("b", "")
	testkit.Eventually(t, 10*time.Second, "both done", func() bool { return h.acks.count() == 2 })
	mu.Lock()
	defer mu.Unlock()
	if d := otherAt.Sub(refusedAt); d < 300*time.Millisecond {
		t.Fatalf("key b sent %s after the Retry-After of 300ms began", d)
	}
}
