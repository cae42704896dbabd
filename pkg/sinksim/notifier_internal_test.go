package sinksim

import (
	"context"
	"testing"
	"time"
)

// TestNotifierChangedWithoutWaiters: a change nobody waits for allocates
// nothing (every emulator request is one), and a waiter that came before
// a change still wakes.
func TestNotifierChangedWithoutWaiters(t *testing.T) {
	var n notifier
	if a := testing.AllocsPerRun(100, n.changed); a != 0 {
		t.Fatalf("%.0f allocations per change, want 0", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		first := true
		done <- n.wait(ctx, func() bool {
			calls <- struct{}{}
			was := first
			first = false
			return !was
		})
	}()
	<-calls // the waiter holds the channel and waits
	n.changed()
	if err := <-done; err != nil {
		t.Fatalf("waiter not woken: %v", err)
	}
}
