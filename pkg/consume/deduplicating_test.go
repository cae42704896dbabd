package consume_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

func TestDeduplicating(t *testing.T) {
	var handled []string
	fail := "1"
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		handled = append(handled, values(ms))
		errs := make([]error, len(ms))
		for i, m := range ms {
			if string(m.Value) == fail {
				errs[i] = sinkerr.NewRetryable(errors.New("503"), 0)
			}
		}
		return errs
	})
	mw, err := consume.Deduplicating(10)
	if err != nil {
		t.Fatal(err)
	}
	d := mw(h)
	batch := msgs(3)
	dup := batch[0]
	dup.Offset, dup.Value = 3, []byte("0-again")
	errs := d.Handle(context.Background(), append(batch, dup))
	if !errors.Is(errs[3], consume.ErrDuplicate) || errs[0] != nil || errs[1] == nil {
		t.Fatalf("errs %v: want the second copy of e0 a duplicate, e1 failed", errs)
	}
	// e0 and e2 were sent: dropped now; e1 failed, so it is handed on again.
	fail = ""
	errs = d.Handle(context.Background(), msgs(3))
	if !errors.Is(errs[0], consume.ErrDuplicate) || errs[1] != nil || !errors.Is(errs[2], consume.ErrDuplicate) {
		t.Errorf("errs %v: want e0 and e2 duplicates, e1 sent", errs)
	}
	// Without an event_id nothing is dropped.
	bare := []kafka.Message{{Topic: "in", Value: []byte("x")}, {Topic: "in", Value: []byte("x")}}
	if errs := d.Handle(context.Background(), bare); errs[0] != nil || errs[1] != nil {
		t.Errorf("messages without event_id: %v", errs)
	}
	if want := "[[0 1 2] [1] [x x]]"; fmt.Sprint(handled) != want {
		t.Errorf("handled %v, want %s", handled, want)
	}
	// A window below 0 disables it.
	handled = nil
	off, err := consume.Deduplicating(-1)
	if err != nil {
		t.Fatal(err)
	}
	if errs := off(h).Handle(context.Background(), append(msgs(1), msgs(1)...)); errs[1] != nil || len(handled) != 1 || handled[0] != "[0 0]" {
		t.Errorf("disabled: errs %v, handled %v", errs, handled)
	}
}
