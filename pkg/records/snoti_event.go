package records

import (
	"fmt"
	"time"
)

// SnotiEvent is one SNoti push as the ingest wrote it to snoti.events.v1.
type SnotiEvent struct {
	EventID        string
	EventType      string
	ProductKey     string
	DID            string
	MAC            string
	GroupID        *string
	CreatedAt      time.Time
	ReceivedAt     time.Time
	Protocol       string
	DeliveryID     string // raw JSON text
	MsgID          *string
	GizwitsEventID *string
	Online         *OnlineInfo
	Attr           *AttrEvent
	Raw            []byte
	KV             map[string]any // values: nil, bool, int64, float64 or string
	Attributes     map[string]string
	RawJSON        string
}

// OnlineInfo is the extra data of a device_online push.
type OnlineInfo struct {
	IP, Country, Region, City string
	Latitude, Longitude       *float64
	ICCID, IMSI               *string
}

// AttrEvent is the data of an attr_fault or attr_alert push.
type AttrEvent struct {
	Name        string
	DisplayName string
	Value       int64 // 1 occurs, 0 clears
}

// SchemaName implements Record.
func (*SnotiEvent) SchemaName() string { return "SnotiEvent" }

func (e *SnotiEvent) headers() map[string]string {
	return map[string]string{"event_type": e.EventType, "product_key": e.ProductKey, "event_id": e.EventID}
}

func (e *SnotiEvent) toNative() (map[string]any, error) {
	m := map[string]any{
		"event_id":         e.EventID,
		"event_type":       e.EventType,
		"product_key":      e.ProductKey,
		"did":              e.DID,
		"mac":              e.MAC,
		"group_id":         optString(e.GroupID),
		"created_at":       e.CreatedAt,
		"received_at":      e.ReceivedAt,
		"protocol":         e.Protocol,
		"delivery_id":      e.DeliveryID,
		"msg_id":           optString(e.MsgID),
		"gizwits_event_id": optString(e.GizwitsEventID),
		"online":           nil,
		"attr":             nil,
		"raw":              optBytes(e.Raw),
		"kv":               nil,
		"attributes":       strMapNative(e.Attributes),
		"raw_json":         e.RawJSON,
	}
	if o := e.Online; o != nil {
		m["online"] = map[string]any{"io.snotibridge.OnlineInfo": map[string]any{
			"ip": o.IP, "country": o.Country, "region": o.Region, "city": o.City,
			"latitude": optDouble(o.Latitude), "longitude": optDouble(o.Longitude),
			"iccid": optString(o.ICCID), "imsi": optString(o.IMSI),
		}}
	}
	if a := e.Attr; a != nil {
		m["attr"] = map[string]any{"io.snotibridge.AttrEvent": map[string]any{
			"attr_name": a.Name, "attr_displayname": a.DisplayName, "value": a.Value,
		}}
	}
	if e.KV != nil {
		kv := make(map[string]any, len(e.KV))
		for k, v := range e.KV {
			n, err := scalar(v)
			if err != nil {
				return nil, fmt.Errorf("kv %q: %w", k, err)
			}
			kv[k] = n
		}
		m["kv"] = map[string]any{"map": kv}
	}
	return m, nil
}

func (e *SnotiEvent) fromNative(m map[string]any) error {
	r := &reader{m: m}
	*e = SnotiEvent{
		EventID:        r.str("event_id"),
		EventType:      r.str("event_type"),
		ProductKey:     r.str("product_key"),
		DID:            r.str("did"),
		MAC:            r.str("mac"),
		GroupID:        r.optStr("group_id"),
		CreatedAt:      r.time("created_at"),
		ReceivedAt:     r.time("received_at"),
		Protocol:       r.str("protocol"),
		DeliveryID:     r.str("delivery_id"),
		MsgID:          r.optStr("msg_id"),
		GizwitsEventID: r.optStr("gizwits_event_id"),
		Raw:            r.bytes("raw"),
		Attributes:     r.strMap("attributes"),
		RawJSON:        r.str("raw_json"),
	}
	if o := r.record("online"); o != nil {
		e.Online = &OnlineInfo{
			IP: o.str("ip"), Country: o.str("country"), Region: o.str("region"), City: o.str("city"),
			Latitude: o.optDouble("latitude"), Longitude: o.optDouble("longitude"),
			ICCID: o.optStr("iccid"), IMSI: o.optStr("imsi"),
		}
		if o.err != nil {
			return fmt.Errorf("online: %w", o.err)
		}
	}
	if a := r.record("attr"); a != nil {
		e.Attr = &AttrEvent{Name: a.str("attr_name"), DisplayName: a.str("attr_displayname"), Value: a.long("value")}
		if a.err != nil {
			return fmt.Errorf("attr: %w", a.err)
		}
	}
	if kv, ok := unwrap(m["kv"]).(map[string]any); ok {
		e.KV = make(map[string]any, len(kv))
		for k, v := range kv {
			e.KV[k] = unwrap(v)
		}
	}
	return r.err
}
