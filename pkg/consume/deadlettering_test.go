package consume_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// TestDeadLetteringRecordsAttempts: under Retrying, a record rejected at
// the third attempt is dead-lettered with Attempts 3 (the first write
// failing is retried); alone, DeadLettering passes retryable failures on.
func TestDeadLetteringRecordsAttempts(t *testing.T) {
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	w := &memWriter{fail: 1}
	calls := 0
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		calls++
		errs := make([]error, len(ms))
		for i := range ms {
			if calls < 3 {
				errs[i] = sinkerr.NewRetryable(errors.New("503"), 0)
			} else {
				errs[i] = consume.Reject("schema", errors.New("field missing"))
			}
		}
		return errs
	})
	b := consume.Backoff{Min: time.Millisecond, Max: time.Millisecond}
	dl := &consume.DeadLetterer{Stage: "st", Topic: "st.dlq", Writer: w, Codec: codec, Backoff: b, Log: zerolog.Nop()}
	errs := consume.Chain(h, consume.Retrying(b, nil), consume.DeadLettering(dl)).Handle(context.Background(), msgs(1))
	var dle *consume.DeadLetteredError
	if !errors.As(errs[0], &dle) || consume.ReasonOf(dle.Err) != "schema" {
		t.Fatalf("err %v: want a dead letter with reason schema", errs[0])
	}
	if o := consume.OutcomeOf(errs[0]); o.Result != consume.DeadLettered || o.Reason() != "schema" {
		t.Errorf("outcome %+v, want dead_lettered with reason schema", o)
	}
	if len(w.msgs) != 1 {
		t.Fatalf("%d dead letters written, want 1", len(w.msgs))
	}
	var rec records.DeadLetter
	if err := codec.Unmarshal(w.msgs[0].Value, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Attempts != 3 || rec.Stage != "st" || rec.Reason != "schema" || rec.SourceOffset != 0 {
		t.Errorf("dead letter %+v: want stage st, reason schema, 3 attempts", rec)
	}

	calls = 0
	errs = consume.DeadLettering(dl)(h).Handle(context.Background(), msgs(1))
	if o := consume.OutcomeOf(errs[0]); o.Result != consume.Failed || sinkerr.Classify(errs[0]) != sinkerr.ClassRetryable {
		t.Errorf("retryable failure became %+v", o)
	}
	if len(w.msgs) != 1 {
		t.Errorf("%d dead letters, want still 1", len(w.msgs))
	}
}

// TestDeadLetteringCancelled: a dead letter that cannot be written before
// the context ends leaves its message failed, not done.
func TestDeadLetteringCancelled(t *testing.T) {
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &memWriter{fail: 1 << 30}
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		cancel()
		return []error{consume.Reject("bad", errors.New("bad"))}
	})
	dl := &consume.DeadLetterer{Stage: "st", Topic: "st.dlq", Writer: w, Codec: codec,
		Backoff: consume.Backoff{Min: time.Millisecond, Max: time.Millisecond}, Log: zerolog.Nop()}
	errs := consume.DeadLettering(dl)(h).Handle(ctx, msgs(1))
	if o := consume.OutcomeOf(errs[0]); o.Done() || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("outcome %+v (%v), want failed with context.Canceled", o, errs[0])
	}
}
