package sinksim

import (
	"context"
	"sync"
)

// notifier lets tests wait for a condition on emulator state without
// polling: every state change closes the current channel.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) current() chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// changed wakes every waiter. The next channel is made by the next
// waiter: a change nobody waits for costs no allocation (every request
// to an emulator is one).
func (n *notifier) changed() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// wait blocks until cond returns true or ctx ends. cond is evaluated after
// taking the change channel, so a change between the two is never missed.
func (n *notifier) wait(ctx context.Context, cond func() bool) error {
	for {
		ch := n.current()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
