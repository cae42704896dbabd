package snotisim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event is one device event to push. The server adds product_key,
// event_type, did, mac, group_id, created_at and sim_seq to the push;
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
}

// event is a published Event with its rendered body: the JSON members of
// the push after cmd, delivery_id and msg_id, without braces.
type event struct {
	seq        uint64
	productKey string
	eventType  string
	did        string
	body       []byte
	published  time.Time
}

func renderEvent(seq uint64, e Event, now time.Time) (*event, error) {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	b := make([]byte, 0, 256)
	b = append(b, `"event_type":`...)
	b = strconv.AppendQuote(b, e.EventType)
	b = append(b, `,"product_key":`...)
	b = strconv.AppendQuote(b, e.ProductKey)
	if e.DID != "" {
		b = append(b, `,"did":`...)
		b = strconv.AppendQuote(b, e.DID)
	}
	if e.MAC != "" {
		b = append(b, `,"mac":`...)
		b = strconv.AppendQuote(b, e.MAC)
	}
	if e.GroupID != "" {
		b = append(b, `,"group_id":`...)
		b = strconv.AppendQuote(b, e.GroupID)
	}
	b = append(b, `,"created_at":`...)
	b = strconv.AppendFloat(b, float64(e.CreatedAt.UnixMicro())/1e6, 'f', 6, 64)
	b = append(b, `,"sim_seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	if len(e.Fields) > 0 {
		f, err := json.Marshal(e.Fields)
		if err != nil {
			return nil, fmt.Errorf("encoding fields of %s event: %w", e.EventType, err)
		}
		b = append(b, ',')
		b = append(b, f[1:len(f)-1]...)
	}
	return &event{seq: seq, productKey: e.ProductKey, eventType: e.EventType, did: e.DID, body: b, published: now}, nil
}
