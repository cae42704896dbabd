package sinkerr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

func TestClassify(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name           string
		err            error
		want           sinkerr.Class
		wantRetryAfter time.Duration
	}{
		{name: "nil", err: nil, want: sinkerr.ClassSuccess},
		{name: "plain", err: base, want: sinkerr.ClassUnknown},
		{name: "context", err: context.Canceled, want: sinkerr.ClassUnknown},
		{name: "retryable", err: sinkerr.NewRetryable(base, 0), want: sinkerr.ClassRetryable},
		{name: "retryable with delay", err: sinkerr.NewRetryable(base, 3*time.Second), want: sinkerr.ClassRetryable, wantRetryAfter: 3 * time.Second},
		{name: "wrapped retryable", err: fmt.Errorf("posting: %w", sinkerr.NewRetryable(base, time.Second)), want: sinkerr.ClassRetryable, wantRetryAfter: time.Second},
		{name: "permanent", err: sinkerr.NewPermanent(base), want: sinkerr.ClassPermanent},
		{name: "wrapped permanent", err: fmt.Errorf("posting: %w", sinkerr.NewPermanent(base)), want: sinkerr.ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sinkerr.Classify(tt.err); got != tt.want {
				t.Fatalf("Classify = %v, want %v", got, tt.want)
			}
			ra, ok := sinkerr.Retryable(tt.err)
			if ok != (tt.want == sinkerr.ClassRetryable) || ra != tt.wantRetryAfter {
				t.Fatalf("Retryable = %v, %v; want %v, %v", ra, ok, tt.wantRetryAfter, tt.want == sinkerr.ClassRetryable)
			}
			if got := sinkerr.IsPermanent(tt.err); got != (tt.want == sinkerr.ClassPermanent) {
				t.Fatalf("IsPermanent = %v", got)
			}
			if got := errors.Is(tt.err, sinkerr.ErrRetryable); got != (tt.want == sinkerr.ClassRetryable) {
				t.Fatalf("errors.Is(ErrRetryable) = %v", got)
			}
			if got := errors.Is(tt.err, sinkerr.ErrPermanent); got != (tt.want == sinkerr.ClassPermanent) {
				t.Fatalf("errors.Is(ErrPermanent) = %v", got)
			}
			if tt.err != nil && tt.want != sinkerr.ClassUnknown && !errors.Is(tt.err, base) {
				t.Fatalf("underlying error lost: %v", tt.err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "empty", value: "", want: 0},
		{name: "seconds", value: "7", want: 7 * time.Second},
		{name: "spaces", value: " 2 ", want: 2 * time.Second},
		{name: "zero", value: "0", want: 0},
		{name: "negative", value: "-3", want: 0},
		{name: "date", value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "past date", value: now.Add(-time.Minute).Format(http.TimeFormat), want: 0},
		{name: "garbage", value: "soon", want: 0},
		{name: "capped", value: "7200", want: sinkerr.MaxRetryAfter},
		{name: "overflow", value: "9227000000", want: sinkerr.MaxRetryAfter},
		{name: "far date", value: now.AddDate(100, 0, 0).Format(http.TimeFormat), want: sinkerr.MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sinkerr.ParseRetryAfter(tt.value, now); got != tt.want {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "Fri, 02 Jan 2026 03:05:35 GMT", "99999999999999999999", "1e3"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := sinkerr.ParseRetryAfter(s, now); d < 0 || d > sinkerr.MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v: out of [0, MaxRetryAfter]", s, d)
		}
	})
}
