package testkit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// errorsTB records the failures of the code under test instead of failing.
type errorsTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *errorsTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestRunInProcess(t *testing.T) {
	tests := []struct {
		name    string
		result  error
		wantErr string
	}{
		{name: "clean stop"},
		{name: "a context error fails too: run returns nil on a clean stop", result: context.Canceled, wantErr: "svc run: context canceled"},
		{name: "failure", result: errors.New("boom"), wantErr: "svc run: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &errorsTB{TB: t}
			started := make(chan struct{})
			var sawCancel bool
			stop := testkit.RunInProcess(rec, "svc", func(ctx context.Context) error {
				close(started)
				<-ctx.Done()
				sawCancel = true
				return tt.result
			})
			<-started
			stop()
			stop() // idempotent
			if !sawCancel {
				t.Error("stop returned before run saw its context cancelled")
			}
			var want []string
			if tt.wantErr != "" {
				want = []string{tt.wantErr}
			}
			if fmt.Sprint(rec.errs) != fmt.Sprint(want) {
				t.Errorf("failures %q, want %q", rec.errs, want)
			}
		})
	}
}
