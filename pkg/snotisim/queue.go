package snotisim

import (
	"cmp"
	"slices"
)

// message is one event in one queue.
type message struct {
	id uint64
	ev *event
	q  *queue
}

// queue is a v1 enterprise's or a v2 product_key+subkey's queue. Its
// connections share it round-robin. Guarded by the broker's mutex.
type queue struct {
	name     string
	products map[string]bool // nil: every product
	events   map[string]bool // nil: every event type

	ready     []*message // ready[head:] wait for a connection, oldest first
	head      int
	consumers []*session
	rr        int
}

func (q *queue) takes(ev *event) bool {
	if q.products != nil && !q.products[ev.productKey] {
		return false
	}
	return q.events == nil || q.events[ev.eventType]
}

func (q *queue) backlog() int { return len(q.ready) - q.head }

func (q *queue) pop() *message {
	m := q.ready[q.head]
	q.ready[q.head] = nil
	q.head++
	if q.head == len(q.ready) {
		q.ready, q.head = q.ready[:0], 0
	} else if q.head > 1024 && q.head > len(q.ready)/2 {
		n := copy(q.ready, q.ready[q.head:])
		clear(q.ready[n:])
		q.ready, q.head = q.ready[:n], 0
	}
	return m
}

// requeue puts messages back at the head, in message order, ahead of
// everything not yet delivered: they are the oldest.
func (q *queue) requeue(ms []*message) {
	slices.SortFunc(ms, func(a, b *message) int { return cmp.Compare(a.id, b.id) })
	ready := make([]*message, 0, len(ms)+q.backlog())
	ready = append(ready, ms...)
	q.ready = append(ready, q.ready[q.head:]...)
	q.head = 0
}

// nextConsumer picks the next connection, round-robin, that may take one
// more message under its prefetch; nil when none may.
func (q *queue) nextConsumer() *session {
	n := len(q.consumers)
	for i := range n {
		s := q.consumers[(q.rr+i)%n]
		if s.hasCredit() {
			q.rr = (q.rr + i + 1) % n
			return s
		}
	}
	return nil
}

func (q *queue) addConsumer(s *session) {
	if !slices.Contains(q.consumers, s) {
		q.consumers = append(q.consumers, s)
	}
}

func (q *queue) removeConsumer(s *session) {
	q.consumers = slices.DeleteFunc(q.consumers, func(c *session) bool { return c == s })
	if q.rr >= len(q.consumers) {
		q.rr = 0
	}
}
