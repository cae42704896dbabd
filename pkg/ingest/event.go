package ingest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// RecordKey is the Kafka key of a push's record: its did, so a device's
// events stay in order on one partition. Events without a did
// (datapoints_changed is about a product, not a device) are keyed by
// product_key: they spread over partitions by product and stay in order
// per product. A push with neither has no key (spread round-robin). It
// decodes the push first when the client deferred it.
func RecordKey(p *snoti.Push) []byte {
	p.Decode()
	switch {
	case p.DID != "":
		return []byte(p.DID)
	case p.ProductKey != "":
		return []byte(p.ProductKey)
	default:
		return nil
	}
}

// ToEvent converts a push into the record the ingest writes. The original
// line is kept whole in RawJSON, so nothing a later fix might need is lost,
// even for event types this version does not know. It decodes the push
// first when the client deferred it (snoti.WithDeferredDecode).
func ToEvent(p *snoti.Push, protocol string, received time.Time) *records.SnotiEvent {
	e := eventOf(p, protocol, received)
	e.RawJSON = string(p.Raw)
	return e
}

// eventOf is ToEvent without RawJSON, which the pipeline's records take
// from the line itself (records.Batch.EventMessage).
func eventOf(p *snoti.Push, protocol string, received time.Time) *records.SnotiEvent {
	p.Decode()
	e := &records.SnotiEvent{
		EventID:    p.EventID(),
		EventType:  p.EventType,
		ProductKey: p.ProductKey,
		DID:        p.DID,
		MAC:        p.MAC,
		CreatedAt:  p.CreatedAt.Truncate(time.Millisecond),
		ReceivedAt: received.UTC().Truncate(time.Millisecond),
		Protocol:   protocol,
		DeliveryID: string(p.DeliveryID),
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = e.ReceivedAt
	}
	if p.GroupID != "" {
		g := p.GroupID
		e.GroupID = &g
	}
	if len(p.MsgID) > 0 {
		m := string(p.MsgID)
		e.MsgID = &m
	}
	var attrs map[string]string // made by setAttr when there is one
	switch d := p.Data.(type) {
	case *snoti.DeviceOnline:
		e.Online = &records.OnlineInfo{IP: d.IP, Country: d.Country, Region: d.Region, City: d.City,
			Latitude: parseFloat(d.Latitude), Longitude: parseFloat(d.Longitude), ICCID: nonEmpty(d.ICCID), IMSI: nonEmpty(d.IMSI)}
	case *snoti.AttrEvent:
		e.Attr = &records.AttrEvent{Name: d.AttrName, DisplayName: d.AttrDisplayName, Value: int64(d.Value)}
		e.GizwitsEventID = nonEmpty(d.EventID)
	case *snoti.StatusRaw:
		e.Raw = d.Raw
	case *snoti.StatusKV:
		e.KV = kvValues(d.Values)
	case *snoti.App2Dev:
		e.Raw = d.Raw
		if d.Values != nil {
			e.KV = kvValues(d.Values)
		}
		setAttr(&attrs, "source", d.Source)
		setAttr(&attrs, "appid", d.AppID)
		setAttr(&attrs, "uid", d.UID)
		setAttr(&attrs, "enterprise_id", d.EnterpriseID)
	case *snoti.SubDevice:
		setAttr(&attrs, "child_product_key", d.ChildProductKey)
		setAttr(&attrs, "child_did", d.ChildDID)
		setAttr(&attrs, "child_mac", d.ChildMAC)
		setAttr(&attrs, "child_passcode", d.ChildPasscode)
	case *snoti.Binding:
		setAttr(&attrs, "app_id", d.AppID)
		setAttr(&attrs, "uid", d.UID)
	case *snoti.FileDownload:
		setAttr(&attrs, "download_url", d.DownloadURL)
	case nil:
		if p.DataErr == nil {
			// An event type this version does not know: keep its other
			// members as text (JSON text for objects and arrays), whatever
			// their type; raw_json has them as sent.
			for k, v := range p.Extra() {
				setAttr(&attrs, k, jsonText(v))
			}
		}
	}
	if p.DataErr != nil {
		setAttr(&attrs, "data_error", p.DataErr.Error())
	}
	if len(attrs) > 0 {
		e.Attributes = attrs
	}
	return e
}

// kvValues turns raw JSON values into the record's scalar types; nested
// objects and arrays are kept as their JSON text. Scalars are recognised by
// their first byte, which is far cheaper than a JSON decoder per value.
func kvValues(in map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(in))
	for k, raw := range in {
		out[k] = kvValue(bytes.TrimSpace(raw))
	}
	return out
}

func kvValue(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return nil
		}
	case 't', 'f':
		if b, err := strconv.ParseBool(string(raw)); err == nil {
			return b
		}
	case '"':
		if s, ok := jsonString(raw); ok {
			return s
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// A fraction or an exponent is no integer: ParseInt would fail, and
		// its error costs two allocations per value.
		if !bytes.ContainsAny(raw, ".eE") {
			if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				return i
			}
		}
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return f
		}
	}
	return string(raw)
}

// jsonText is a JSON value as text: a string's value, "" for null, the
// JSON text of anything else.
func jsonText(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		if s, ok := jsonString(raw); ok {
			return s
		}
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

func parseFloat(s string) *float64 {
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil
	}
	return &f
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// setAttr sets a non-empty attribute, making the map on the first one
// (most events have none: no map for them).
func setAttr(m *map[string]string, k, v string) {
	if v == "" {
		return
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// jsonString decodes the JSON string raw as encoding/json does. Most have
// no escape and are valid UTF-8, and are then their bytes between the
// quotes: that spares encoding/json's reflection on every string value of
// a device_status_kv push.
func jsonString(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && plainString(raw[1:len(raw)-1]) {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// plainString reports whether s is valid UTF-8 with neither a quote, a
// backslash nor a control character: a JSON string's text as it is.
func plainString(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(s)
}
