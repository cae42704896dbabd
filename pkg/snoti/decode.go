package snoti

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Inbound commands.
const (
	cmdPushV1         = "enterprise_event_push"
	cmdPushV2         = "event_push"
	cmdLoginResV1     = "enterprise_login_res"
	cmdLoginResV2     = "login_res"
	cmdPongV1         = "enterprise_pong"
	cmdPongV2         = "pong"
	cmdSubscribeRes   = "subscribe_res"
	cmdUnsubscribeRes = "unsubscribe_res"
	cmdRemoteRes      = "remote_control_v2_res"
	cmdRemoteResOld   = "remote_control_res"
	cmdInvalidMsg     = "invalid_msg"
)

// controlCmds are the replies the server sends; any other JSON object with
// a delivery id is a push, whatever its cmd says.
var controlCmds = map[string]bool{
	cmdLoginResV1: true, cmdLoginResV2: true, cmdPongV1: true, cmdPongV2: true,
	cmdSubscribeRes: true, cmdUnsubscribeRes: true, cmdRemoteRes: true, cmdRemoteResOld: true, cmdInvalidMsg: true,
}

// decodeLine parses one line. It returns either a push, an Invalid report,
// or (both nil) a control message in w for the caller to dispatch.
//
// A push is read tolerantly: the line is validated and split into its
// top-level members once, and only the members the client needs are
// interpreted, each accepting any JSON type (see fields.text). Nothing in a
// push's other members can make it invalid: a line that is a JSON object
// with a usable delivery_id is a push and must be ACKed.
func decodeLine(line []byte) (w *wireMessage, p *Push, inv *Invalid) {
	w, p, inv, _ = splitLine(line, false)
	return w, p, inv
}

// splitLine is decodeLine, leaving a push's Event to Push.Decode when
// deferred is set (WithDeferredDecode): the line is still validated and
// split once, but only its ids are kept. label is a push's event type for
// the metrics (eventTypeLabel), read either way.
func splitLine(line []byte, deferred bool) (w *wireMessage, p *Push, inv *Invalid, label string) {
	c := scratchPool.Get().(*canonicalizer) // nothing decoded keeps its members
	defer c.release()
	members, err := c.split(line)
	if err != nil {
		return nil, nil, &Invalid{Line: line, Size: len(line), Kind: InvalidJSON, Reason: err.Error()}, ""
	}
	f := fields(members)
	cmd := f.text("cmd")
	deliveryID := f.raw("delivery_id")
	switch {
	case cmd == cmdPushV1 || cmd == cmdPushV2:
	case controlCmds[cmd] || !rawIsScalarID(deliveryID):
		return decodeControl(line), nil, nil, ""
	}
	if !rawIsScalarID(deliveryID) {
		reason := "push without delivery_id"
		if len(deliveryID) > 0 {
			reason = fmt.Sprintf("push with delivery_id %.64s: must be a number or a string", deliveryID)
		}
		return nil, nil, &Invalid{Line: line, Size: len(line), Kind: InvalidNoDeliveryID, Reason: reason}, ""
	}
	if deferred {
		p = &Push{deferred: true}
	} else {
		// One allocation for both: they live and die together.
		pe := new(struct {
			p Push
			e Event
		})
		p = &pe.p
		pe.e.fill(f)
		p.Event = &pe.e
	}
	p.Raw, p.DeliveryID = line, deliveryID
	if msgID := f.raw("msg_id"); rawIsScalarID(msgID) {
		p.MsgID = msgID
	}
	return nil, p, nil, eventTypeLabel(f.raw("event_type"))
}

// newEvent is the Event of a push's members.
func newEvent(f fields) *Event {
	e := new(Event)
	e.fill(f)
	return e
}

// fill reads the push's members into e and decodes its data.
func (e *Event) fill(f fields) {
	e.EventType = eventTypeText(f.raw("event_type"))
	e.ProductKey = f.text("product_key")
	e.DID = f.text("did")
	e.MAC = f.text("mac")
	e.GroupID = f.text("group_id")
	e.CreatedAtRaw = f.raw("created_at")
	e.DataRaw = f.raw("data")
	if s, ok := parseCreatedAt(e.CreatedAtRaw); ok {
		e.CreatedAt = secondsToTime(s)
	}
	e.Data, e.DataErr = decodeEventData(e.EventType, f)
	if e.DataErr != nil {
		e.DataErr = fmt.Errorf("decoding %s: %w", e.EventType, e.DataErr)
	}
}

// eventTypeLabel is the metrics label of a push's raw event_type, read
// without decoding the push (WithDeferredDecode): the known type it names,
// or "other". It allocates nothing.
func eventTypeLabel(raw json.RawMessage) string {
	if t, ok := knownTypeOf(raw); ok {
		return t
	}
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return "other" // a plain string, and no known type
	}
	t := rawText(raw)
	if !knownEventType(t) {
		return "other"
	}
	return t
}

// eventTypeText is the push's event_type as text (rawText): a known type's
// shared name instead of a copy of its bytes.
func eventTypeText(raw json.RawMessage) string {
	if t, ok := knownTypeOf(raw); ok {
		return t
	}
	return rawText(raw)
}

// knownTypeOf returns the shared name of the known event type that raw
// spells as a JSON string, looked up in place (a known type has no
// escapes, so a string with one is never it).
func knownTypeOf(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	t, ok := knownEventTypes[string(raw[1:len(raw)-1])]
	return t, ok
}

// decodeControl decodes a server reply. The line is a JSON object already;
// a member of an unexpected type is left at its zero value (encoding/json
// fills every other field), so the reply is still dispatched by its cmd.
func decodeControl(line []byte) *wireMessage {
	w := new(wireMessage)
	_ = json.Unmarshal(line, w)
	return w
}

// fields are the top-level members of a push, in wire order. Lookups take
// the last member of a name, as encoding/json does.
type fields []member

// raw returns the member's raw JSON, nil when absent.
func (f fields) raw(name string) json.RawMessage {
	for i := len(f) - 1; i >= 0; i-- {
		if string(f[i].key) == name {
			return f[i].value
		}
	}
	return nil
}

// text returns the member as text whatever its JSON type: a string's
// value, the literal of a number or boolean (every digit kept), the JSON
// text of an object or array, and "" for null or absent.
func (f fields) text(name string) string {
	return rawText(f.raw(name))
}

func rawText(raw json.RawMessage) string {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			return string(inner)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return string(inner)
		}
		return s
	default:
		return string(raw)
	}
}

// tooLongInvalid reports an over-long line. When its beginning is a push
// with a usable delivery id, the report can ACK it on cn: an over-long push
// is quarantined like any bad record instead of holding a prefetch slot
// and being redelivered at every reconnect.
func tooLongInvalid(e *errLineTooLong, cn *conn) Invalid {
	inv := Invalid{Line: e.prefix, Size: e.size, Kind: InvalidTooLong, Reason: e.Error()}
	f := fields(scanPrefix(e.prefix))
	cmd := f.text("cmd")
	id := f.raw("delivery_id")
	if controlCmds[cmd] || !rawIsScalarID(id) {
		return inv
	}
	inv.DeliveryID = id
	if msgID := f.raw("msg_id"); rawIsScalarID(msgID) {
		inv.MsgID = msgID
	}
	inv.push = &Push{Raw: e.prefix, DeliveryID: inv.DeliveryID, MsgID: inv.MsgID, conn: cn}
	return inv
}

// scanPrefix returns the complete top-level members at the start of a
// truncated JSON object.
func scanPrefix(prefix []byte) []member {
	s := scanner{b: prefix, collect: true}
	s.skipSpace()
	if s.i >= len(prefix) || prefix[s.i] != '{' {
		return nil
	}
	_ = s.value(0) // stops at the truncation
	return s.members
}

// ParsePush decodes line as the client decodes what it reads, for code that
// holds a line outside a connection: tests, or a tool re-reading the
// raw_json of a record. The push cannot be ACKed. The error says why a line
// is not a push (the reason an Invalid would carry, or a control message).
func ParsePush(line []byte) (*Push, error) {
	w, p, inv := decodeLine(line)
	switch {
	case p != nil:
		return p, nil
	case inv != nil:
		return nil, fmt.Errorf("%s: %s", inv.Kind, inv.Reason)
	default:
		return nil, fmt.Errorf("not a push: a %q control message", w.Cmd)
	}
}
