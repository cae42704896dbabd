package snotisim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
)

// Event is one device event to push. The server adds product_key,
// event_type, did and mac (when set), group_id (for the event types whose
// doc lists it, "" when unset, as the real server sends it), created_at,
// and sim_seq with Config.Trace;
// Fields are the event-specific top-level fields (data, ip, event_id, …).
type Event struct {
	ProductKey string
	EventType  string
	DID        string
	MAC        string
	GroupID    string
	// CreatedAt defaults to the time of Publish.
	CreatedAt time.Time
	Fields    map[string]any
	// FieldsJSON, when set, is used instead of Fields: a JSON object whose
	// members are copied into the push byte for byte (numbers keep every
	// digit, key order is kept).
	FieldsJSON json.RawMessage
	// V2FieldsJSON, a JSON object, adds members to v2 pushes only: fields
	// the v1 doc predates, such as the NB-IoT fields of device_online.
	V2FieldsJSON json.RawMessage
}

// event is a published Event with its rendered body: the JSON members of
// the push after cmd, delivery_id and msg_id, without braces.
type event struct {
	seq        uint64
	productKey string
	eventType  string
	did        string
	body       []byte
	v2Extra    []byte // ",member,…" for v2 pushes only
	published  time.Time
}

// fieldsJSON returns the event's fields as a JSON object.
func (e *Event) fieldsJSON() ([]byte, error) {
	if e.FieldsJSON != nil {
		if !json.Valid(e.FieldsJSON) || bytes.TrimSpace(e.FieldsJSON)[0] != '{' {
			return nil, fmt.Errorf("FieldsJSON of %s event: must be a JSON object", e.EventType)
		}
		return bytes.TrimSpace(e.FieldsJSON), nil
	}
	if len(e.Fields) == 0 {
		return nil, nil
	}
	f, err := json.Marshal(e.Fields)
	if err != nil {
		return nil, fmt.Errorf("encoding fields of %s event: %w", e.EventType, err)
	}
	return asciiJSON(f), nil
}

// renderEvent builds the push body of e; fields is a JSON object or nil.
func renderEvent(seq uint64, e *Event, fields []byte, now time.Time) *event {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	b := make([]byte, 0, 128+len(fields))
	b = append(b, `"event_type":`...)
	b = appendJSONString(b, e.EventType)
	b = append(b, `,"product_key":`...)
	b = appendJSONString(b, e.ProductKey)
	if e.DID != "" {
		b = append(b, `,"did":`...)
		b = appendJSONString(b, e.DID)
	}
	if e.MAC != "" {
		b = append(b, `,"mac":`...)
		b = appendJSONString(b, e.MAC)
	}
	if e.GroupID != "" || groupIDTypes[e.EventType] {
		b = append(b, `,"group_id":`...)
		b = appendJSONString(b, e.GroupID)
	}
	b = append(b, `,"created_at":`...)
	b = strconv.AppendFloat(b, float64(e.CreatedAt.UnixMicro())/1e6, 'f', 6, 64)
	if inner := bytes.TrimSpace(fields[min(1, len(fields)):max(len(fields)-1, 0)]); len(inner) > 0 {
		b = append(b, ',')
		b = append(b, inner...)
	}
	ev := &event{seq: seq, productKey: e.ProductKey, eventType: e.EventType, did: e.DID, body: b, published: now}
	if x := bytes.TrimSpace(e.V2FieldsJSON); len(x) > 2 && x[0] == '{' {
		ev.v2Extra = append([]byte{','}, bytes.TrimSpace(x[1:len(x)-1])...)
	}
	return ev
}

// groupIDTypes are the event types whose doc field set has group_id.
var groupIDTypes = map[string]bool{
	"device_online": true, "device_offline": true, "attr_fault": true, "attr_alert": true,
	"device_status_raw": true, "device_status_kv": true, "device_bind": true, "device_unbind": true,
	"app2dev_raw": true, "app2dev_kv": true,
}

// appendJSONString appends s as a JSON string with every non-ASCII
// character escaped as \uXXXX, as the real server writes its JSON (the
// doc-linked Python client relies on it); plain ASCII takes the fast path.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return appendEscaped(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendEscaped(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, asciiJSON(q)...)
}

// asciiJSON escapes every non-ASCII character of encoded JSON (they can
// only be inside strings) as \uXXXX.
func asciiJSON(q []byte) []byte {
	ascii := true
	for _, c := range q {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return q
	}
	b := make([]byte, 0, len(q)+16)
	for _, r := range string(q) {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			b = fmt.Appendf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b = fmt.Appendf(b, `\u%04x`, r)
		}
	}
	return b
}
