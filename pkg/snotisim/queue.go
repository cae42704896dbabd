package snotisim

import (
	"cmp"
	"slices"
)

// message is one event in one queue.
type message struct {
	id       uint64
	ev       *event
	q        *queue
	hasMsgID bool // v2 pushes of it carry msg_id (Config.MsgIDShare)
}

// queue is a v1 enterprise's or a v2 product_key+subkey's queue. Its
// connections share it round-robin. Guarded by the broker's mutex.
type queue struct {
	name     string
	v1       bool            // a v1 enterprise queue: only the v1 event types
	products map[string]bool // nil: every product
	events   map[string]bool // nil: every event type (a declared queue nobody subscribed yet)

	ready     []*message // ready[head:] wait for a connection, oldest first
	head      int
	consumers []*session
	rr        int
}

// takes reports whether ev is routed to q: its product, and an event type
// the queue subscribed to. Types the simulator does not know (a stand-in
// for a type added to the server after the client was written) go to
// every queue of the product.
func (q *queue) takes(ev *event) bool {
	if q.products != nil && !q.products[ev.productKey] {
		return false
	}
	if !knownType(ev.eventType) {
		return true
	}
	if q.v1 && !v1Types[ev.eventType] {
		return false
	}
	return q.events == nil || q.events[ev.eventType]
}

// v1Types are the event types of the v1 protocol.
var v1Types = map[string]bool{
	"device_online": true, "device_offline": true, "attr_fault": true, "attr_alert": true,
	"device_status_raw": true, "device_status_kv": true,
}

func knownType(t string) bool {
	_, ok := allTypes[t]
	return ok
}

var allTypes = allEventTypes()

// narrow sets the event types of a queue that took everything so far and
// drops its waiting messages of other types; it returns how many.
func (q *queue) narrow(events map[string]bool) int {
	q.events = events
	kept := q.ready[:0]
	dropped := 0
	for _, m := range q.ready[q.head:] {
		if q.takes(m.ev) {
			kept = append(kept, m)
		} else {
			dropped++
		}
	}
	clear(q.ready[len(kept):])
	q.ready, q.head = kept, 0
	return dropped
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
