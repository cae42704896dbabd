package enosfwd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// laneFake is a concurrent EnOS: each measurement point or event call
// waits (up to a deadline) until barrier calls are in flight, so that
// lanes or kinds posted one after the other are caught; a measurement
// point call then answers with fail's error for each entry.
type laneFake struct {
	barrier int
	fail    func(dev string) error // a call carrying dev fails whole with it; nil: accept

	mu       sync.Mutex
	inFlight int
	maxIn    int
	allIn    chan struct{}
	once     sync.Once
	calls    [][]enos.MeasurepointEntry // measurepoint calls, in the order they started
	accepted map[string][]time.Time     // per device key, the times of accepted entries in acceptance order
	events   []enos.EventEntry
}

func newLaneFake(barrier int) *laneFake {
	return &laneFake{barrier: barrier, allIn: make(chan struct{}), accepted: map[string][]time.Time{}}
}

// enter counts a call in flight and waits for the barrier; the caller
// holds f.mu when it returns, and leaves with f.inFlight-- under it.
func (f *laneFake) enter() {
	f.mu.Lock()
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	if f.inFlight >= f.barrier {
		f.once.Do(func() { close(f.allIn) })
	}
	f.mu.Unlock()
	select {
	case <-f.allIn:
	case <-time.After(5 * time.Second):
	}
	f.mu.Lock()
}

func (f *laneFake) PostMeasurepoints(_ context.Context, e []enos.MeasurepointEntry, _ ...enos.SendOption) enos.Result {
	f.mu.Lock()
	f.calls = append(f.calls, e)
	f.mu.Unlock()
	f.enter()
	defer f.mu.Unlock()
	f.inFlight--
	res := enos.Result{Errs: make([]error, len(e))}
	var callErr error // a request fails whole, as EnOS being busy does
	for _, en := range e {
		if f.fail != nil && callErr == nil {
			callErr = f.fail(en.Device.DeviceKey)
		}
	}
	for i, en := range e {
		res.Errs[i] = callErr
		if res.Errs[i] == nil {
			f.accepted[en.Device.DeviceKey] = append(f.accepted[en.Device.DeviceKey], en.Time)
		}
	}
	return res
}

func (f *laneFake) PostEvents(_ context.Context, e []enos.EventEntry, _ ...enos.SendOption) enos.Result {
	f.enter()
	defer f.mu.Unlock()
	f.inFlight--
	f.events = append(f.events, e...)
	return enos.Result{Errs: make([]error, len(e))}
}

func (f *laneFake) PostAttributes(_ context.Context, e []enos.AttributeEntry, _ ...enos.SendOption) enos.Result {
	return enos.Result{Errs: make([]error, len(e))}
}

// laneBatch is 200 telemetry records of 10 devices interleaved, on one
// partition, each device's records in increasing time; then a fault event
// of dev-03.
func laneBatch(t *testing.T) []kafka.Message {
	var msgs []kafka.Message
	for i := range 200 {
		m := telemetry(t, "pk-ev", fmt.Sprintf("dev-%02d", i%10), "", t0.Add(time.Duration(i)*time.Millisecond), records.DataPoint{Name: "voltage", Value: float64(i)})
		msgs = append(msgs, m)
	}
	msgs = append(msgs, event(t, "pk-ev", "dev-03", "", "attr_fault", t0.Add(time.Second), &records.AttrEvent{Name: "f", Value: 1}))
	for i := range msgs {
		msgs[i].Partition, msgs[i].Offset = 0, int64(i)
	}
	return msgs
}

func TestHandlerLanesPostConcurrentlyInDeviceOrder(t *testing.T) {
	f := newLaneFake(4)
	h, _ := newHandler(t, f, enosfwd.Options{Concurrency: 4})
	msgs := laneBatch(t)[:200] // measurement points only: one request per lane
	for i, err := range h.Handle(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(f.calls) != 4 || f.maxIn != 4 {
		t.Fatalf("%d measurepoint calls, at most %d in flight: want 4 lanes posted at once", len(f.calls), f.maxIn)
	}
	lane := map[string]int{} // device → the call that carried it
	for c, entries := range f.calls {
		for _, en := range entries {
			if l, ok := lane[en.Device.DeviceKey]; ok && l != c {
				t.Fatalf("device %s in calls %d and %d: a device must stay in one lane", en.Device.DeviceKey, l, c)
			}
			lane[en.Device.DeviceKey] = c
		}
		if n := len(entries); n < 40 || n > 60 {
			t.Errorf("call %d carries %d entries: lanes unbalanced", c, n)
		}
	}
	checkDeviceOrder(t, f, 20)
}

// checkDeviceOrder checks that EnOS accepted every one of the 10 devices'
// n points once, in time order.
func checkDeviceOrder(t *testing.T, f *laneFake, n int) {
	t.Helper()
	for d := range 10 {
		dev := fmt.Sprintf("dev-%02d", d)
		got := f.accepted[dev]
		if len(got) != n || !slices.IsSortedFunc(got, func(a, b time.Time) int { return a.Compare(b) }) {
			t.Errorf("device %s: %d points accepted (want %d), in order: %v", dev, len(got), n, slices.IsSortedFunc(got, func(a, b time.Time) int { return a.Compare(b) }))
		}
		for i := 1; i < len(got); i++ {
			if got[i].Equal(got[i-1]) {
				t.Errorf("device %s: a point accepted twice", dev)
			}
		}
	}
}

// The batch's two kinds are posted at once, so at Concurrency 4 it is
// folded into two lanes: two measurement point requests and dev-03's
// event, all three in flight together (the fake's barrier) and never more
// than 4. At Concurrency 1 every lane and kind goes one after another.
func TestHandlerKindsPostAtOnceWithinConcurrency(t *testing.T) {
	for _, c := range []struct {
		concurrency, calls, inFlight int
	}{
		{concurrency: 4, calls: 2, inFlight: 3},
		{concurrency: 1, calls: 1, inFlight: 1},
	} {
		f := newLaneFake(c.inFlight)
		h, _ := newHandler(t, f, enosfwd.Options{Concurrency: c.concurrency})
		for i, err := range h.Handle(context.Background(), laneBatch(t)) {
			if err != nil {
				t.Fatalf("Concurrency %d: message %d: %v", c.concurrency, i, err)
			}
		}
		if len(f.calls) != c.calls || len(f.events) != 1 || f.maxIn != c.inFlight {
			t.Fatalf("Concurrency %d: %d measurepoint calls, %d events, at most %d requests in flight: want %d calls, the event, %d in flight",
				c.concurrency, len(f.calls), len(f.events), f.maxIn, c.calls, c.inFlight)
		}
		checkDeviceOrder(t, f, 20)
	}
}

func TestHandlerFailingLaneLosesAndReordersNothing(t *testing.T) {
	down := sinkerr.NewRetryable(errors.New("EnOS busy"), time.Second)
	f := newLaneFake(3)
	f.fail = func(dev string) error {
		if dev == "dev-03" {
			return down
		}
		return nil
	}
	h, _ := newHandler(t, f, enosfwd.Options{Concurrency: 4})
	msgs := laneBatch(t)
	errs := h.Handle(context.Background(), msgs)

	// dev-03's lane failed whole: its measurement points; its event, posted
	// at once with them (all three requests were in flight together, the
	// fake's barrier), was accepted. The other lane's messages are done.
	failedLane := map[string]bool{}
	for _, entries := range f.calls {
		if slices.ContainsFunc(entries, func(e enos.MeasurepointEntry) bool { return e.Device.DeviceKey == "dev-03" }) {
			for _, e := range entries {
				failedLane[e.Device.DeviceKey] = true
			}
		}
	}
	if len(f.events) != 1 || errs[200] != nil {
		t.Fatalf("%d events posted, the event's outcome %v: want it posted with its lane's points, and done", len(f.events), errs[200])
	}
	var retry []kafka.Message
	firstFailed := -1
	for i, err := range errs[:200] {
		dev := fmt.Sprintf("dev-%02d", i%10)
		switch {
		case failedLane[dev]:
			if !errors.Is(err, down) {
				t.Fatalf("message %d of %s (failed lane): %v, want the lane's retryable error", i, dev, err)
			}
			if firstFailed < 0 {
				firstFailed = i
			}
			retry = append(retry, msgs[i])
		case err != nil:
			t.Fatalf("message %d of %s (lane that succeeded): %v", i, dev, err)
		}
	}
	// The runner commits only up to the first message not done.
	done := make([]bool, len(errs))
	for i, err := range errs {
		done[i] = err == nil
	}
	commit := consume.ContiguousDone(msgs, done)
	if firstFailed < 0 || (len(commit) > 0 && commit[0].Offset >= int64(firstFailed)) {
		t.Fatalf("first failed message %d, commit %v: commits must stop before it", firstFailed, commit)
	}

	// Retried (as consume.Retrying does, the failed ones in order), they
	// all go through: every device's points arrive once, in order, and the
	// event is not posted again.
	f2 := newLaneFake(1)
	f2.accepted = f.accepted
	f2.fail = nil
	h2, _ := newHandler(t, f2, enosfwd.Options{Concurrency: 4})
	for i, err := range h2.Handle(context.Background(), retry) {
		if err != nil {
			t.Fatalf("retried message %d: %v", i, err)
		}
	}
	checkDeviceOrder(t, f2, 20)
	if len(f2.events) != 0 {
		t.Fatalf("%d events in the retry, want none: dev-03's was accepted the first time", len(f2.events))
	}
}

func TestHandlerSmallBatchIsOneRequest(t *testing.T) {
	f := newLaneFake(1)
	h, _ := newHandler(t, f, enosfwd.Options{Concurrency: 4})
	msgs := laneBatch(t)[:63] // under two lanes' worth
	for i, err := range h.Handle(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(f.calls) != 1 {
		t.Fatalf("%d calls for 63 records, want 1", len(f.calls))
	}
}

func TestHandlerConcurrencyBounds(t *testing.T) {
	m, err := enosfwd.ParseMapping("test.json", []byte(testMapping))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{-1, enosfwd.MaxConcurrency + 1} {
		if _, err := enosfwd.NewHandler(enosfwd.Config{}, acceptAll{}, enosfwd.Options{Mapping: m, Concurrency: c}, zerolog.Nop(), nil); err == nil {
			t.Errorf("Concurrency %d accepted", c)
		}
	}
}
