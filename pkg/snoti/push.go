package snoti

import (
	"encoding/json"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Push is one event pushed by SNoti. The fields are read-only; Raw and the
// raw ids alias no buffer of the client and may be kept.
//
// A push holds its line, the ids its ACK echoes and the connection that
// ACKs it; the rest of what the line says is in its Event, whose fields are
// promoted (p.EventType, p.DID, p.Data, …). From a client made
// WithDeferredDecode, Event is nil until Decode: a push waiting for its
// ACK then holds little more than its line.
type Push struct {
	// Raw is the exact original line, without its "\n" terminator.
	Raw []byte
	// DeliveryID and MsgID are the raw JSON values, echoed byte-for-byte in
	// the ACK. MsgID is empty when the push has none (always in v1).
	DeliveryID json.RawMessage
	MsgID      json.RawMessage
	// Event is the rest of the push, decoded from Raw.
	*Event

	conn     *conn
	gen      uint64 // the connection's login generation at delivery (see conn.gen)
	acked    atomic.Bool
	deferred bool // Event waits for Decode
}

// Event is what a push says about its event, besides the ids of its
// delivery: the members read into fields, and the typed data.
type Event struct {
	// EventType is the event_type as sent; unknown types are delivered too.
	EventType  string
	ProductKey string
	DID        string
	MAC        string
	GroupID    string
	// CreatedAt is created_at (seconds as a float) as a time; zero when
	// absent. CreatedAtRaw keeps its exact JSON text.
	CreatedAt    time.Time
	CreatedAtRaw json.RawMessage
	// DataRaw is the push's "data" member as sent (empty when absent), for
	// callers that hash or keep it without parsing the line again.
	DataRaw json.RawMessage
	// Data is the typed event data (see EventData); nil for unknown event
	// types, or when the event's fields did not decode, in which case
	// DataErr says why. Either way the push is valid and must be ACKed.
	Data    EventData
	DataErr error
}

// Decode fills the Event of a push from a client made WithDeferredDecode,
// splitting its line again; for any other push it does nothing. It is not
// safe for concurrent use on one push: call it from the goroutine that then
// reads the Event's fields. Ack may run concurrently: it reads none of them.
func (p *Push) Decode() {
	if !p.deferred {
		return
	}
	p.deferred = false
	c := scratchPool.Get().(*canonicalizer)
	defer c.release()
	members, _ := c.split(p.Raw) // a valid object: the client split it once
	p.Event = newEvent(fields(members))
}

// Ack tells SNoti the push is handled. Call it once the caller's own work
// is durable; it is safe from any goroutine and never blocks on the network:
// the ACK is queued and written by the connection's writer, in the order
// Ack calls happen. Extra calls are ignored. If the connection that
// delivered the push is gone, Ack does nothing but count the ACK as dropped
// (Stats.AcksDropped): SNoti redelivers the push on a new connection, under
// a new delivery id, as a new Push.
func (p *Push) Ack() {
	if p.conn == nil || !p.acked.CompareAndSwap(false, true) {
		return
	}
	p.conn.enqueueAck(p)
}

// commonFields are the members read into Push's own fields.
var commonFields = []string{"cmd", "delivery_id", "msg_id", "event_type", "product_key", "did", "mac", "group_id", "created_at", "data"}

// Extra returns the push's top-level members other than those read into
// its fields (cmd, delivery_id, msg_id, event_type, product_key, did, mac,
// group_id, created_at, data), each as raw JSON whatever its type; nil when
// there are none. It parses Raw again: use it for what EventData does not
// cover, such as the fields of an event type this version does not know.
func (p *Push) Extra() map[string]json.RawMessage {
	members, _ := scanObject(p.Raw)
	var out map[string]json.RawMessage
	for _, m := range members {
		if slices.Contains(commonFields, string(m.key)) {
			continue
		}
		if out == nil {
			out = make(map[string]json.RawMessage, len(members))
		}
		out[string(m.key)] = m.value
	}
	return out
}

// appendAck appends the ACK line for p in protocol proto.
func (p *Push) appendAck(b []byte, proto string) []byte {
	if proto == ProtocolV1 {
		b = append(b, `{"cmd":"enterprise_event_ack","delivery_id":`...)
		b = append(b, p.DeliveryID...)
		return append(b, "}\n"...)
	}
	b = append(b, `{"cmd":"event_ack","delivery_id":`...)
	b = append(b, p.DeliveryID...)
	if len(p.MsgID) > 0 {
		b = append(b, `,"msg_id":`...)
		b = append(b, p.MsgID...)
	}
	return append(b, "}\n"...)
}

// secondsToTime converts created_at seconds to a time with microsecond
// precision, which is all a float64 of epoch seconds holds.
func secondsToTime(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}
