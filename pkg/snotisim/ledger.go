package snotisim

import (
	"slices"
	"time"
)

// Entry is the ledger record of one message: one event routed to one
// queue. "Pushed" means handed to a connection's writer.
type Entry struct {
	Message   uint64    `json:"message"` // the message id (also the v2 msg_id, as "m<id>")
	Seq       uint64    `json:"seq"`     // the event's sim_seq
	Queue     string    `json:"queue"`
	EventType string    `json:"event_type"`
	Published time.Time `json:"published"`
	FirstPush time.Time `json:"first_push,omitzero"`
	Pushes    int       `json:"pushes"`
	Acked     time.Time `json:"acked,omitzero"`
	// Acks counts accepted ACKs; more than one cannot happen (the server
	// forgets a delivery id once ACKed), so a second ACK of the same id
	// shows up as Summary.UnknownAcks instead.
	Acks int `json:"acks"`
}

// Summary are the ledger's counters since start.
type Summary struct {
	Events          uint64 `json:"events"`            // published events
	Unrouted        uint64 `json:"unrouted"`          // events no queue took
	Messages        uint64 `json:"messages"`          // event copies queued
	Pushes          uint64 `json:"pushes"`            // pushes, redeliveries included
	Redeliveries    uint64 `json:"redeliveries"`      // pushes of a message pushed before
	Acks            uint64 `json:"acks"`              // accepted ACKs
	UnknownAcks     uint64 `json:"unknown_acks"`      // ACKs of ids issued on this connection but not outstanding (repeated)
	StaleAcks       uint64 `json:"stale_acks"`        // ACKs of delivery ids never issued on their connection (an earlier connection's)
	Stalls          uint64 `json:"stalls"`            // connections stalled by a stale ACK (Faults.StallOnStaleAck)
	MsgIDMismatches uint64 `json:"msg_id_mismatches"` // v2 ACKs with a msg_id other than the push's (an ACK without one is fine)
	Expired         uint64 `json:"expired"`           // messages dropped unpushed from a queue over Config.MaxBacklog
	Unsubscribed    uint64 `json:"unsubscribed"`      // messages a declared queue stored before its first subscription, of types it did not subscribe to
	Pending         uint64 `json:"pending"`           // messages not ACKed yet
	Backlog         uint64 `json:"backlog"`           // messages waiting for a connection
	Connections     uint64 `json:"connections"`       // connections accepted
	Logins          uint64 `json:"logins"`
	LoginFailures   uint64 `json:"login_failures"`
	Disconnects     uint64 `json:"disconnects"`    // logged-in connections closed
	ClientInvalid   uint64 `json:"client_invalid"` // client lines answered with invalid_msg
	NotLoggedIn     uint64 `json:"not_logged_in"`  // of those, commands before login (4001) or after a forced logout (4003)
	SecondLogins    uint64 `json:"second_logins"`  // logins on a logged-in connection, answered with 4009
	Logouts         uint64 `json:"logouts"`        // logins forgotten by Server.ForgetLogins
	UnknownEvents   uint64 `json:"unknown_events"` // unknown event names in logins and subscriptions (accepted, ignored)
	NoHeartbeats    uint64 `json:"no_heartbeats"`  // connections closed with "No Heartbeat!" after IdleTimeout
	RemoteControls  uint64 `json:"remote_controls"`
	RemoteWrites    uint64 `json:"remote_writes"`    // commands accepted for an online device
	RemoteNoSource  uint64 `json:"remote_no_source"` // commands without the doc's required "source":"noti" (accepted, as public clients omit it)
	Pings           uint64 `json:"pings"`
	Injected        uint64 `json:"injected"`  // malformed lines written by fault injection
	Connected       int    `json:"connected"` // logged-in connections now
}

// Latency summarises push→ACK latency (first push to ACK) over the ACKed
// entries the ledger still holds.
type Latency struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// entry is the compact in-memory form of Entry (times in Unix nanoseconds,
// 0 = not yet): the ledger may hold a million of them.
type entry struct {
	message   uint64
	seq       uint64
	queue     *queue
	eventType string
	published int64
	firstPush int64
	acked     int64
	pushes    int32
	acks      int32
}

func (e *entry) export() Entry {
	t := func(ns int64) time.Time {
		if ns == 0 {
			return time.Time{}
		}
		return time.Unix(0, ns).UTC()
	}
	return Entry{
		Message: e.message, Seq: e.seq, Queue: e.queue.name, EventType: e.eventType,
		Published: t(e.published), FirstPush: t(e.firstPush), Pushes: int(e.pushes),
		Acked: t(e.acked), Acks: int(e.acks),
	}
}

// ledger keeps at least the size most recent entries, indexed by message
// id (ids are assigned in order). It is guarded by the broker's mutex.
type ledger struct {
	size    int
	entries []entry // entries[i] is message base+i
	base    uint64
	sum     Summary
}

func (l *ledger) add(e entry) {
	if len(l.entries) == 0 {
		l.base = e.message
	}
	l.entries = append(l.entries, e)
	if len(l.entries) >= 2*l.size { // forget in bulk: amortised O(1)
		drop := len(l.entries) - l.size
		l.entries = append(l.entries[:0], l.entries[drop:]...)
		l.base += uint64(drop)
	}
}

// get returns the entry of a message, or nil if forgotten.
func (l *ledger) get(id uint64) *entry {
	if id < l.base || id-l.base >= uint64(len(l.entries)) {
		return nil
	}
	return &l.entries[id-l.base]
}

func (l *ledger) pushed(id uint64, now int64) {
	l.sum.Pushes++
	e := l.get(id)
	if e == nil {
		return
	}
	if e.pushes > 0 {
		l.sum.Redeliveries++
	} else {
		e.firstPush = now
	}
	e.pushes++
}

func (l *ledger) acked(id uint64, now int64) {
	l.sum.Acks++
	l.sum.Pending--
	if e := l.get(id); e != nil {
		e.acks++
		if e.acked == 0 {
			e.acked = now
		}
	}
}

func (l *ledger) latency() Latency {
	var ds []time.Duration
	for _, e := range l.entries {
		if e.acked != 0 && e.firstPush != 0 {
			ds = append(ds, time.Duration(e.acked-e.firstPush))
		}
	}
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Latency{Count: len(ds), P50: at(0.50), P99: at(0.99), Max: ds[len(ds)-1]}
}
