package consume_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// memWriter is a DLQ writer that keeps what it is given.
type memWriter struct {
	mu   sync.Mutex
	msgs []kafka.Message
	fail int // fail this many writes first
}

func (w *memWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail > 0 {
		w.fail--
		return errors.New("broker unavailable")
	}
	w.msgs = append(w.msgs, msgs...)
	return nil
}

func msgs(n int) []kafka.Message {
	out := make([]kafka.Message, n)
	for i := range out {
		out[i] = kafka.Message{
			Topic: "in", Partition: i % 2, Offset: int64(i), Key: []byte(fmt.Sprintf("dev%d", i%3)), Value: []byte(fmt.Sprint(i)),
			Headers: []kafka.Header{{Key: "event_id", Value: []byte(fmt.Sprintf("e%d", i))}, {Key: "product_key", Value: []byte("pk")}},
		}
	}
	return out
}

func newProcessor(t *testing.T, h consume.Handler, dlq consume.MessageWriter) *consume.Processor {
	t.Helper()
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	p, err := consume.NewProcessor(consume.ProcessorConfig{
		Stage: "test", DLQTopic: "test.dlq", MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}, h, dlq, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProcessRetriesThenSucceeds(t *testing.T) {
	var calls int
	var delivered []string
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		calls++
		errs := make([]error, len(ms))
		for i, m := range ms {
			if calls <= 3 {
				errs[i] = sinkerr.NewRetryable(errors.New("503"), 0)
				continue
			}
			delivered = append(delivered, string(m.Value))
		}
		return errs
	})
	dlq := &memWriter{}
	done, err := newProcessor(t, h, dlq).Process(context.Background(), msgs(10))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range done {
		if !d.Done() {
			t.Errorf("message %d not done", i)
		}
	}
	if len(delivered) != 10 || len(dlq.msgs) != 0 {
		t.Errorf("delivered %d, dead-lettered %d; want 10 and 0 (a sink outage is not a bad message)", len(delivered), len(dlq.msgs))
	}
}

func TestProcessDeadLettersPermanent(t *testing.T) {
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		errs := make([]error, len(ms))
		for i, m := range ms {
			if string(m.Value) == "4" {
				errs[i] = consume.Reject("no_mapping", errors.New("product pk has no EnOS mapping"))
			}
		}
		return errs
	})
	dlq := &memWriter{fail: 2}
	done, err := newProcessor(t, h, dlq).Process(context.Background(), msgs(6))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range done {
		if !d.Done() {
			t.Errorf("message %d not done", i)
		}
	}
	if len(dlq.msgs) != 1 {
		t.Fatalf("dead letters: %d, want 1", len(dlq.msgs))
	}
	codec, _ := records.NewCodec()
	var dl records.DeadLetter
	if err := codec.Unmarshal(dlq.msgs[0].Value, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Reason != "no_mapping" || string(dl.Value) != "4" || dl.SourceOffset != 4 || *dl.SourceTopic != "in" || dl.Attempts != 1 || *dl.EventID != "e4" {
		t.Errorf("dead letter %+v", dl)
	}
}

func TestProcessDropsDuplicates(t *testing.T) {
	var handled int
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		handled += len(ms)
		return make([]error, len(ms))
	})
	p := newProcessor(t, h, &memWriter{})
	batch := msgs(5)
	if _, err := p.Process(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	done, err := p.Process(context.Background(), batch) // redelivery
	if err != nil {
		t.Fatal(err)
	}
	if handled != 5 || !done[4].Done() {
		t.Errorf("handled %d, want 5: redelivered event ids must be dropped", handled)
	}
}

// TestProcessDropsDuplicatesWithinBatch: a retried ingest write can put
// one delivery at two consecutive offsets; both land in one batch and the
// sink must see the event once, the first time it is tried.
func TestProcessDropsDuplicatesWithinBatch(t *testing.T) {
	var handled []string
	var calls int
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		calls++
		errs := make([]error, len(ms))
		for i, m := range ms {
			if calls == 1 && string(m.Value) == "1" {
				errs[i] = sinkerr.NewRetryable(errors.New("503"), 0) // the first copy must be retried, not replaced
				continue
			}
			handled = append(handled, string(m.Value))
		}
		return errs
	})
	batch := msgs(4)
	dup := batch[1]
	dup.Offset, dup.Value = 4, []byte("1-again")
	batch = append(batch, dup)
	done, err := newProcessor(t, h, &memWriter{}).Process(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, true, true, true}; fmt.Sprint(consume.Done(done)) != fmt.Sprint(want) {
		t.Errorf("done = %v, want %v", done, want)
	}
	if fmt.Sprint(handled) != "[0 2 3 1]" {
		t.Errorf("handled %v, want [0 2 3 1]: the second copy of e1 must be dropped", handled)
	}
}

func TestProcessCancelledWhileSinkDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		errs := make([]error, len(ms))
		for i := range ms {
			if i == 2 {
				cancel()
				errs[i] = sinkerr.NewRetryable(errors.New("timeout"), 0)
			}
		}
		return errs
	})
	done, err := newProcessor(t, h, &memWriter{}).Process(ctx, msgs(4))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := []bool{true, true, false, true}; fmt.Sprint(consume.Done(done)) != fmt.Sprint(want) {
		t.Errorf("done = %v, want %v", done, want)
	}
}

func TestPerKeyKeepsOrder(t *testing.T) {
	var mu sync.Mutex
	sent := map[string][]string{}
	h := consume.PerKey(4, func(_ context.Context, m kafka.Message) error {
		if string(m.Value) == "4" { // dev1's second message fails
			return sinkerr.NewRetryable(errors.New("429"), 0)
		}
		mu.Lock()
		sent[string(m.Key)] = append(sent[string(m.Key)], string(m.Value))
		mu.Unlock()
		return nil
	})
	errs := h.Handle(context.Background(), msgs(9))
	// dev1 holds 1, 4, 7: 4 fails, so 7 must not be attempted.
	if errs[4] == nil || errs[7] == nil {
		t.Fatalf("errs[4]=%v errs[7]=%v, want both failed", errs[4], errs[7])
	}
	if got := fmt.Sprint(sent["dev1"]); got != "[1]" {
		t.Errorf("dev1 sent %s, want [1]", got)
	}
	if got := fmt.Sprint(sent["dev0"]); got != "[0 3 6]" {
		t.Errorf("dev0 sent %s, want [0 3 6] in order", got)
	}
}

// TestProcessReportsOutcomes: every message's fate comes back with the
// batch — sent, duplicate (within and across batches), dead-lettered with
// the handler's error — so a caller needs no wrapper of its own to learn it.
func TestProcessReportsOutcomes(t *testing.T) {
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		errs := make([]error, len(ms))
		for i, m := range ms {
			if string(m.Value) == "2" {
				errs[i] = consume.Reject("no_mapping", errors.New("no mapping"))
			}
		}
		return errs
	})
	dlq := &memWriter{}
	p := newProcessor(t, h, dlq)
	batch := msgs(4)
	again := batch[0]
	again.Offset, again.Value = 4, []byte("0-again")
	batch = append(batch, again)
	outs, err := p.Process(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []consume.Result{consume.Sent, consume.Sent, consume.DeadLettered, consume.Sent, consume.Duplicate}
	for i, o := range outs {
		if o.Result != want[i] {
			t.Errorf("message %d: %s, want %s", i, o.Result, want[i])
		}
	}
	if o := outs[2]; o.Reason() != "no_mapping" || o.Err == nil || !sinkerr.IsPermanent(o.Err) {
		t.Errorf("dead-lettered outcome %+v (reason %q): want the handler's permanent error, reason no_mapping", o, o.Reason())
	}
	if outs[0].Err != nil || outs[4].Err != nil || outs[0].Reason() != "" {
		t.Errorf("sent/duplicate outcomes carry errors: %+v %+v", outs[0], outs[4])
	}
	if len(dlq.msgs) != 1 {
		t.Errorf("%d dead letters, want 1", len(dlq.msgs))
	}
	outs, err = p.Process(context.Background(), msgs(3)) // redelivered
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if o.Result != consume.Duplicate {
			t.Errorf("redelivered message %d: %s, want duplicate", i, o.Result)
		}
	}
	if got := fmt.Sprint(consume.Sent, consume.Duplicate, consume.DeadLettered, consume.Failed); got != "sent duplicate dead_lettered failed" {
		t.Errorf("result names %q", got)
	}
}

// TestProcessFatalOnWrongResultCount: a handler that returns fewer results
// than messages is a bug no retry fixes; Process stops with an error and
// nothing is done.
func TestProcessFatalOnWrongResultCount(t *testing.T) {
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error { return make([]error, len(ms)-1) })
	outs, err := newProcessor(t, h, &memWriter{}).Process(context.Background(), msgs(3))
	if err == nil {
		t.Fatal("want an error for 2 results for 3 messages")
	}
	if slices.Contains(consume.Done(outs), true) {
		t.Errorf("outcomes %+v: want none done", outs)
	}
}
