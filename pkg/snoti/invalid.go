package snoti

import "encoding/json"

// Invalid is a line from the server that cannot be handled as a push: not
// a JSON object, a push without a usable delivery_id, or a line over the
// length limit. The connection carries on.
//
// An over-long push whose delivery id is in its first 64 KiB (SNoti sends
// cmd, delivery_id and msg_id first) can still be ACKed: call Ack once the
// line is quarantined, so it does not hold a prefetch slot and come back
// at every reconnect. The other kinds have no delivery id to echo.
type Invalid struct {
	// Line is the line without its terminator; for an over-long line, only
	// its first 64 KiB.
	Line []byte
	// Size is the length of the whole line in bytes (Line may be shorter).
	Size int
	// Reason says what is wrong, for logs and dead-letter records.
	Reason string
	// Kind is a short stable label for metrics: InvalidJSON,
	// InvalidNoDeliveryID or InvalidTooLong.
	Kind string
	// DeliveryID and MsgID are the raw ids of an over-long push, when its
	// beginning holds them; empty otherwise.
	DeliveryID json.RawMessage
	MsgID      json.RawMessage

	push *Push // set when the line can be ACKed
}

// Kinds of Invalid.
const (
	InvalidJSON         = "invalid_json"
	InvalidNoDeliveryID = "no_delivery_id"
	InvalidTooLong      = "too_long"
)

// CanAck reports whether the line is a push that Ack would ACK.
func (inv Invalid) CanAck() bool { return inv.push != nil }

// Ack ACKs the push the line was, if it can be ACKed (CanAck); call it
// after the line is durably quarantined. Like Push.Ack it never blocks,
// and extra calls are ignored.
func (inv Invalid) Ack() {
	if inv.push != nil {
		inv.push.Ack()
	}
}
