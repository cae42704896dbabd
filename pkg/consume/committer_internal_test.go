package consume

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// fakeCommits is an offsetCommitter that records every CommitMessages
// call (per partition, the offset) and fails while fail is positive.
type fakeCommits struct {
	mu    sync.Mutex
	fail  int
	calls []map[int]int64
	// hold, when set, blocks each call until it is closed; entered then
	// receives a value as each call starts.
	hold    chan struct{}
	entered chan struct{}
}

func (f *fakeCommits) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	if f.hold != nil {
		f.entered <- struct{}{}
		select {
		case <-f.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	call := map[int]int64{}
	for _, m := range msgs {
		call[m.Partition] = m.Offset
	}
	f.calls = append(f.calls, call)
	if f.fail > 0 {
		f.fail--
		return errors.New("coordinator not available")
	}
	return nil
}

func (f *fakeCommits) history() []map[int]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]map[int]int64, len(f.calls))
	for i, c := range f.calls {
		out[i] = maps.Clone(c)
	}
	return out
}

// waitCalls waits until f has had at least n calls.
func (f *fakeCommits) waitCalls(t *testing.T, n int) []map[int]int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if h := f.history(); len(h) >= n {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d commit calls after 10s, want %d: %v", len(f.history()), n, f.history())
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

func testCommitter(f *fakeCommits, interval time.Duration) (*committer, *metrics) {
	m := newMetrics(prometheus.NewRegistry())
	return newCommitter(f, interval, 5*time.Second, "test", m, zerolog.Nop()), m
}

func tp(p int, off int64) kafka.Message { return kafka.Message{Topic: "t", Partition: p, Offset: off} }

// TestCommitterMergesPerPartitionAndFlushesAtStop: what is added is merged
// per partition, the highest offset kept (a lower one added later — a
// redelivery — does not move it back), and the stop commits it all.
func TestCommitterMergesPerPartitionAndFlushesAtStop(t *testing.T) {
	f := &fakeCommits{}
	c, m := testCommitter(f, time.Hour)
	c.add(tp(0, 5), tp(1, 3))
	c.add(tp(0, 9))
	c.add(tp(0, 7), tp(2, 1))
	// Not started: nothing committed until the loop runs or stops.
	stop := c.start()
	f.waitCalls(t, 1)
	stop()
	h := f.history()
	if len(h) != 1 || !maps.Equal(h[0], map[int]int64{0: 9, 1: 3, 2: 1}) {
		t.Fatalf("commits %v, want one of {0:9 1:3 2:1}", h)
	}
	if ok := testutil.ToFloat64(m.commits.WithLabelValues("test", "ok")); ok != 1 {
		t.Errorf("snotibridge_consumer_commits_total{result=ok} = %v, want 1", ok)
	}
}

// TestCommitterFinalCommitHasWhatTheIntervalHeldBack: commits are at most
// one per interval; what was added since the last one is committed when
// the committer stops.
func TestCommitterFinalCommitHasWhatTheIntervalHeldBack(t *testing.T) {
	f := &fakeCommits{}
	c, _ := testCommitter(f, time.Hour)
	var committed int
	c.committed = func() { committed++ }
	stop := c.start()
	c.add(tp(0, 1))
	f.waitCalls(t, 1) // the first commit does not wait
	c.add(tp(0, 2), tp(1, 4))
	c.add(tp(0, 3))
	stop()
	h := f.history()
	if len(h) != 2 || !maps.Equal(h[1], map[int]int64{0: 3, 1: 4}) {
		t.Fatalf("commits %v, want {0:1} then, at stop, {0:3 1:4}", h)
	}
	if committed != 2 {
		t.Errorf("committed called %d times, want 2", committed)
	}
	c.commit(context.Background(), true) // nothing left
	if n := len(f.history()); n != 2 {
		t.Errorf("a commit with nothing pending called Kafka (%d calls)", n)
	}
}

// TestCommitterRetriesAFailedCommit: a failed commit is tried again an
// interval later with the same offsets, without anything new being added,
// and counted as an error.
func TestCommitterRetriesAFailedCommit(t *testing.T) {
	f := &fakeCommits{fail: 2}
	c, m := testCommitter(f, 10*time.Millisecond)
	stop := c.start()
	defer stop()
	c.add(tp(0, 4), tp(1, 8))
	h := f.waitCalls(t, 3)
	for i, call := range h[:3] {
		if !maps.Equal(call, map[int]int64{0: 4, 1: 8}) {
			t.Errorf("attempt %d committed %v, want {0:4 1:8}", i, call)
		}
	}
	if n := testutil.ToFloat64(m.commits.WithLabelValues("test", "error")); n != 2 {
		t.Errorf("snotibridge_consumer_commits_total{result=error} = %v, want 2", n)
	}
	if !c.empty() {
		t.Error("offsets still pending after a successful retry")
	}
}

// TestCommitterKeepsWhatCameDuringACommit: an offset added while a commit
// of an older one is in flight stays pending after that commit succeeds.
func TestCommitterKeepsWhatCameDuringACommit(t *testing.T) {
	f := &fakeCommits{hold: make(chan struct{}), entered: make(chan struct{}, 2)}
	c, _ := testCommitter(f, time.Millisecond)
	c.add(tp(0, 1))
	done := make(chan bool)
	go func() { done <- c.commit(context.Background(), false) }()
	<-f.entered
	c.add(tp(0, 6))
	close(f.hold)
	if !<-done {
		t.Fatal("commit failed")
	}
	if c.empty() {
		t.Fatal("offset 6, added during the commit of 1, is no longer pending")
	}
	if !c.commit(context.Background(), false) {
		t.Fatal("second commit failed")
	}
	if h := f.history(); len(h) != 2 || h[0][0] != 1 || h[1][0] != 6 {
		t.Fatalf("commits %v, want {0:1} then {0:6}", h)
	}
}

// TestCommitterNeverPassesANotDoneMessage: through the AsyncRunner's
// release (the Tracker), a message not done holds its partition back,
// also at the final commit; others move on.
func TestCommitterNeverPassesANotDoneMessage(t *testing.T) {
	f := &fakeCommits{}
	c, _ := testCommitter(f, time.Millisecond)
	tr := NewTracker(100)
	c.release = tr.Committable
	for _, m := range []kafka.Message{tp(0, 0), tp(0, 1), tp(0, 2), tp(0, 3), tp(1, 0), tp(1, 1)} {
		if _, err := tr.Add(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []kafka.Message{tp(0, 0), tp(0, 1), tp(0, 3), tp(1, 0), tp(1, 1)} {
		if err := tr.Done(m); err != nil {
			t.Fatal(err)
		}
	}
	stop := c.start()
	c.wake()
	f.waitCalls(t, 1)
	stop()
	for _, call := range f.history() {
		if call[0] > 1 {
			t.Fatalf("commits %v: partition 0 committed past offset 2, which is not done", f.history())
		}
	}
	if h := f.history(); len(h) != 1 || !maps.Equal(h[0], map[int]int64{0: 1, 1: 1}) {
		t.Errorf("commits %v, want {0:1 1:1} only", h)
	}
}
