package consume_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

func values(ms []kafka.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Value))
	}
	return fmt.Sprint(out)
}

func TestRetryingRetriesOnlyWhatFailed(t *testing.T) {
	var calls []string
	var notified []int
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		calls = append(calls, values(ms))
		errs := make([]error, len(ms))
		for i, m := range ms {
			switch {
			case string(m.Value) == "3":
				errs[i] = sinkerr.NewPermanent(errors.New("bad record"))
			case string(m.Value) == "1" && len(calls) < 3:
				errs[i] = sinkerr.NewRetryable(errors.New("503"), 0)
			}
		}
		return errs
	})
	r := consume.Retrying(consume.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}, func(_ error, pending, _ int, _ time.Duration) {
		notified = append(notified, pending)
	})(h)
	errs := r.Handle(context.Background(), msgs(4))
	if want := "[[0 1 2 3] [1] [1]]"; fmt.Sprint(calls) != want {
		t.Errorf("calls %v, want %s: only the retryable failure is tried again", calls, want)
	}
	if fmt.Sprint(notified) != "[1 1]" {
		t.Errorf("notified %v, want two rounds of one message", notified)
	}
	if errs[0] != nil || errs[1] != nil || errs[2] != nil || !sinkerr.IsPermanent(errs[3]) {
		t.Errorf("errs %v: want nil but the permanent failure", errs)
	}
}

func TestRetryingGivesUpOnlyWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rounds := 0
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		if rounds++; rounds == 5 {
			cancel()
		}
		errs := make([]error, len(ms))
		for i := range errs {
			errs[i] = sinkerr.NewRetryable(errors.New("timeout"), 0)
		}
		return errs
	})
	errs := consume.Retrying(consume.Backoff{Min: time.Millisecond, Max: time.Millisecond}, nil)(h).Handle(ctx, msgs(2))
	if rounds != 5 {
		t.Errorf("%d rounds, want 5 (retried until the context ended)", rounds)
	}
	for i, err := range errs {
		if o := consume.OutcomeOf(err); o.Result != consume.Failed || o.Err == nil {
			t.Errorf("message %d: outcome %+v, want failed with the last error", i, o)
		}
	}
}

// TestRetryingStopsOnAFatalError: a handler returning the wrong number of
// results is not retried, and every message of the round gets the error.
func TestRetryingStopsOnAFatalError(t *testing.T) {
	calls := 0
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		calls++
		return make([]error, len(ms)+1)
	})
	errs := consume.Retrying(consume.Backoff{Min: time.Millisecond, Max: time.Millisecond}, nil)(h).Handle(context.Background(), msgs(3))
	if calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
	for i, err := range errs {
		if err == nil || consume.OutcomeOf(err).Done() {
			t.Errorf("message %d: %v, want the fatal error", i, err)
		}
	}
}
