package snotisim

import (
	"sync"
	"time"
)

// broker holds every queue, the ledger and the delivery state of every
// connection under one mutex: each operation is short, and one lock keeps
// the prefetch, round-robin and redelivery rules easy to see right.
type broker struct {
	mu      sync.Mutex
	queues  map[string]*queue
	order   []*queue // queues in creation order, for routing
	ledger  ledger
	nextMsg uint64
	backlog int
	// maxBacklog bounds each queue's waiting messages; beyond it the oldest
	// expire, as SNoti's retention expires what nobody collects.
	maxBacklog int
	online     map[string]bool // did → online, from published online/offline events
	msgIDShare float64         // share of messages with a msg_id (< 0: none)
}

func newBroker(ledgerSize, maxBacklog int, msgIDShare float64) *broker {
	return &broker{queues: map[string]*queue{}, ledger: ledger{size: ledgerSize}, maxBacklog: maxBacklog,
		online: map[string]bool{}, msgIDShare: msgIDShare}
}

// hasMsgID spreads msg_ids evenly: message n has one when n·share
// crosses an integer.
func (b *broker) hasMsgID(n uint64) bool {
	if b.msgIDShare <= 0 {
		return false
	}
	return uint64(float64(n)*b.msgIDShare) != uint64(float64(n-1)*b.msgIDShare)
}

// declare returns the queue named name, creating it with the given filters.
// Must hold mu.
func (b *broker) declare(name string, products map[string]bool, events map[string]bool) *queue {
	if q, ok := b.queues[name]; ok {
		return q
	}
	q := &queue{name: name, products: products, events: events}
	b.queues[name] = q
	b.order = append(b.order, q)
	return q
}

// lookup returns the queue named name, or nil.
func (b *broker) lookup(name string) *queue {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queues[name]
}

// publish routes events to every queue that takes them and pushes what
// the connections' prefetch allows.
func (b *broker) publish(evs []*event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	touched := map[*queue]bool{}
	for _, ev := range evs {
		b.ledger.sum.Events++
		switch ev.eventType {
		case "device_online":
			b.online[ev.did] = true
		case "device_offline":
			b.online[ev.did] = false
		}
		routed := false
		for _, q := range b.order {
			if !q.takes(ev) {
				continue
			}
			b.nextMsg++
			m := &message{id: b.nextMsg, ev: ev, q: q, hasMsgID: !q.v1 && b.hasMsgID(b.nextMsg)}
			b.ledger.add(entry{message: m.id, seq: ev.seq, queue: q, eventType: ev.eventType, published: ev.published.UnixNano()})
			b.ledger.sum.Messages++
			b.ledger.sum.Pending++
			q.ready = append(q.ready, m)
			b.backlog++
			if q.backlog() > b.maxBacklog {
				q.pop()
				b.backlog--
				b.ledger.sum.Expired++
				b.ledger.sum.Pending--
			}
			touched[q] = true
			routed = true
		}
		if !routed {
			b.ledger.sum.Unrouted++
		}
	}
	now := time.Now().UnixNano()
	for q := range touched {
		b.pump(q, now)
	}
}

// pump hands ready messages to connections with free prefetch slots,
// round-robin. Must hold mu.
func (b *broker) pump(q *queue, now int64) {
	for q.backlog() > 0 {
		s := q.nextConsumer()
		if s == nil {
			return
		}
		m := q.pop()
		b.backlog--
		s.assign(m)
		b.ledger.pushed(m.id, now)
	}
}

// attach makes s a consumer of q and pushes what it may take.
func (b *broker) attach(s *session, q *queue) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.closed {
		return
	}
	q.addConsumer(s)
	s.addQueue(q)
	b.pump(q, time.Now().UnixNano())
}

// ackResult is what an ACK did.
type ackResult int

const (
	ackOK       ackResult = iota
	ackRepeated           // an id issued on this connection, not outstanding
	ackStale              // an id never issued on this connection
	ackStalled            // stale, and the connection is now stalled
)

// ack settles the message delivered to s under deliveryID. An id s has
// not outstanding is counted: repeated if s issued it, stale otherwise
// (an earlier connection's id: ids are scoped to connections), which in
// stall mode stops every push on s. An ACK without msg_id is fine (most
// public clients never send one); a v2 ACK whose msg_id differs from the
// push's (or names one the push did not have) is counted as a mismatch
// but settles the message.
func (b *broker) ack(s *session, deliveryID, msgID []byte, stall bool) ackResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, found := s.inflight[string(deliveryID)]
	if !found {
		if s.issued(deliveryID) {
			b.ledger.sum.UnknownAcks++
			return ackRepeated
		}
		b.ledger.sum.StaleAcks++
		if stall || s.stalled {
			if !s.stalled {
				s.stalled = true
				b.ledger.sum.Stalls++
			}
			return ackStalled
		}
		return ackStale
	}
	if s.proto == protoV2 && msgID != nil {
		want := []byte("null")
		if m.hasMsgID {
			want = appendMsgID(nil, m.id)
		}
		if string(msgID) != string(want) {
			b.ledger.sum.MsgIDMismatches++
		}
	}
	delete(s.inflight, string(deliveryID))
	now := time.Now().UnixNano()
	b.ledger.acked(m.id, now)
	// The freed slot may serve any queue of s; start with the message's.
	b.pump(m.q, now)
	for _, q := range s.queues {
		if q != m.q {
			b.pump(q, now)
		}
	}
	return ackOK
}

// release takes s off its queues and puts its un-ACKed messages back,
// ahead of newer ones, for the remaining or next connections. Must hold mu.
func (b *broker) release(s *session) {
	back := map[*queue][]*message{}
	for _, m := range s.inflight {
		back[m.q] = append(back[m.q], m)
	}
	clear(s.inflight)
	for _, q := range s.queues {
		q.removeConsumer(s)
	}
	s.queues = nil
	now := time.Now().UnixNano()
	for q, ms := range back {
		q.requeue(ms)
		b.backlog += len(ms)
	}
	for q := range back {
		b.pump(q, now)
	}
}

// logout forgets the login of s, as a server that lost its session state
// would: the connection stays open, its commands get invalid_msg 4003
// until it logs in again. false if s was not logged in.
func (b *broker) logout(s *session) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.closed || !s.loggedIn {
		return false
	}
	s.loggedIn = false
	b.ledger.sum.Logouts++
	b.ledger.sum.Connected--
	b.release(s)
	// Pushes not written yet are not sent: their messages are back in
	// their queues. Control lines stay.
	kept := s.out[:0]
	for _, it := range s.out {
		if it.m == nil {
			kept = append(kept, it)
		}
	}
	clear(s.out[len(kept):])
	s.out = kept
	clear(s.products)
	return true
}

// detach ends s's deliveries: its un-ACKed messages go back to their
// queues, ahead of newer ones, for the remaining or next connections.
func (b *broker) detach(s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.out = nil
	if !s.everIn {
		return
	}
	b.ledger.sum.Disconnects++
	if !s.loggedIn {
		return
	}
	b.ledger.sum.Connected--
	b.release(s)
}

func (b *broker) summary() Summary {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.ledger.sum
	s.Backlog = uint64(b.backlog)
	return s
}

// minBacklog is the smallest backlog of any queue: the room a producer
// has before every queue is full (a queue nobody consumes is full soon and
// then expires its oldest messages; it must not stop the others).
func (b *broker) minBacklog() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	least := -1
	for _, q := range b.order {
		if least < 0 || q.backlog() < least {
			least = q.backlog()
		}
	}
	return max(least, 0)
}

func (b *broker) isOnline(did string) (online, known bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	online, known = b.online[did]
	return online, known
}

// note updates ledger counters that are not about messages.
func (b *broker) note(f func(*Summary)) {
	b.mu.Lock()
	f(&b.ledger.sum)
	b.mu.Unlock()
}
