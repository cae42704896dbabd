package enosfwd

import (
	"bytes"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// Kinds of records, as metric labels.
const (
	KindMeasurepoint = "measurepoint"
	KindEvent        = "event"
	KindAttribute    = "attribute"
	KindOther        = "other" // records EnOS takes nothing from, and undecodable ones
)

// item is what one record becomes: one EnOS entry, or nothing to send.
// The entries are values, not pointers, so that an item costs no
// allocation of its own: has says which one is set.
type item struct {
	kind  string
	time  time.Time // the record's own time, to age it
	skip  bool
	has   entryKind
	point enos.MeasurepointEntry
	event enos.EventEntry
	attr  enos.AttributeEntry
}

// device is the EnOS device of the item's entry.
func (it *item) device() enos.Device {
	switch it.has {
	case pointEntry:
		return it.point.Device
	case eventEntry:
		return it.event.Device
	default:
		return it.attr.Device
	}
}

// entryKind says which entry of an item is set.
type entryKind uint8

const (
	noEntry entryKind = iota
	pointEntry
	eventEntry
	attrEntry
)

// scratch is the records a batch decodes into, one of each kind reused
// for every message (convert keeps nothing of them but strings and
// values, which are immutable): decoding into a fresh one per message
// cost an allocation each. points holds the measurement points of the
// batch's entries, each a sub-slice of it, sorted by sorter; left is the
// number of messages not converted yet, to size its blocks.
type scratch struct {
	t      records.DeviceTelemetry
	e      records.SnotiEvent
	points []enos.Point
	sorter enos.PointSorter
	left   int
}

// convert maps one record. Its error is a consume.Reject with a reason;
// item.kind is set even then, for metrics.
func (h *Handler) convert(mapping *Mapping, m kafka.Message, s *scratch) (item, error) {
	if isTelemetry(m) {
		if err := h.codec.Unmarshal(m.Value, &s.t); err != nil {
			return item{kind: KindMeasurepoint}, rejectf(ReasonBadRecord, fmt.Errorf("decoding telemetry: %w", err))
		}
		return h.convertTelemetry(mapping, s)
	}
	if skipByHeaders(m) {
		return item{kind: KindOther, skip: true}, nil
	}
	err := h.codec.Unmarshal(m.Value, &s.e)
	if err == nil {
		return h.convertEvent(mapping, &s.e)
	}
	// A record without the schema header may still be telemetry.
	if h.codec.Unmarshal(m.Value, &s.t) == nil {
		return h.convertTelemetry(mapping, s)
	}
	return item{kind: KindOther}, rejectf(ReasonBadRecord, fmt.Errorf("decoding record: %w", err))
}

// convertTelemetry maps the telemetry record decoded into s.t.
func (h *Handler) convertTelemetry(mapping *Mapping, s *scratch) (item, error) {
	t := &s.t
	it := item{kind: KindMeasurepoint, time: recordTime(t.Time, t.ReceivedAt)}
	if it.time.IsZero() {
		return it, rejectf(ReasonBadRecord, fmt.Errorf("telemetry %s of device %s has no time", t.EventID, t.DID))
	}
	p, dev, err := device(mapping, t.ProductKey, t.DID, t.MAC)
	if err != nil {
		return it, err
	}
	if cap(s.points)-len(s.points) < len(t.Points) {
		// A new block for the records left (up to 64 of this size): the
		// entries keep theirs, so it is never grown in place.
		s.points = make([]enos.Point, 0, len(t.Points)*min(max(s.left, 1), 64))
	}
	start := len(s.points)
	s.points = p.AppendMeasurepoints(s.points, t.Points, &s.sorter)
	if len(s.points) == start {
		it.skip = true
		return it, nil
	}
	mp := s.points[start:len(s.points):len(s.points)]
	it.has, it.point = pointEntry, enos.MeasurepointEntry{Device: dev, Time: it.time, Points: mp}
	return it, nil
}

// forwardedEvents are the SnotiEvent types EnOS receives.
var forwardedEvents = map[string]bool{"attr_fault": true, "attr_alert": true, "device_online": true, "device_offline": true}

// skipByHeaders reports a SnotiEvent that EnOS takes nothing from, known by
// its headers without decoding it: most of the events topic is status
// events, which reach EnOS as telemetry.
func skipByHeaders(m kafka.Message) bool {
	return bytes.HasPrefix(records.HeaderBytes(m, "schema"), []byte("SnotiEvent.")) && !forwardedEvents[string(records.HeaderBytes(m, "event_type"))]
}

func (h *Handler) convertEvent(mapping *Mapping, e *records.SnotiEvent) (item, error) {
	it := item{kind: KindOther, time: recordTime(e.CreatedAt, e.ReceivedAt)}
	switch {
	case e.EventType == "attr_fault" || e.EventType == "attr_alert":
		it.kind = KindEvent
	case forwardedEvents[e.EventType]:
	default:
		// Status events reach EnOS as decoded telemetry; others carry
		// nothing EnOS takes.
		it.skip = true
		return it, nil
	}
	if it.time.IsZero() {
		return it, rejectf(ReasonBadRecord, fmt.Errorf("%s event %s has no time", e.EventType, e.EventID))
	}
	p, dev, err := device(mapping, e.ProductKey, e.DID, e.MAC)
	if err != nil {
		return it, err
	}
	switch e.EventType {
	case "attr_fault", "attr_alert":
		id := p.FaultEvent
		if e.EventType == "attr_alert" {
			id = p.AlertEvent
		}
		if e.Attr == nil {
			return it, rejectf(ReasonBadRecord, fmt.Errorf("%s event %s has no attr", e.EventType, e.EventID))
		}
		if id == "" {
			it.skip = true
			return it, nil
		}
		it.has, it.event = eventEntry, enos.EventEntry{Device: dev, Time: it.time, Events: map[string]map[string]any{
			id: {"value": e.Attr.Value, "attr_name": e.Attr.Name},
		}}
	default:
		l, online := p.Online, true
		if e.EventType == "device_offline" {
			l, online = p.Offline, false
		}
		attr, event := l.entry(dev, online, it.time)
		switch {
		case attr != nil:
			it.kind, it.has, it.attr = KindAttribute, attrEntry, *attr
		case event != nil:
			it.kind, it.has, it.event = KindEvent, eventEntry, *event
		default:
			it.skip = true
		}
	}
	return it, nil
}

// recordTime is the device's time of a record, or the time the ingest
// received it when the device gave none (a zero or pre-1970 time would
// reach EnOS as a nonsense timestamp).
func recordTime(device, received time.Time) time.Time {
	if device.Unix() > 0 {
		return device
	}
	if received.Unix() > 0 {
		return received
	}
	return time.Time{}
}

// device finds the product mapping and names the device, or rejects the
// record with no_mapping.
func device(mapping *Mapping, productKey, did, mac string) (*Product, enos.Device, error) {
	p, ok := mapping.Lookup(productKey)
	if !ok {
		return nil, enos.Device{}, rejectf(ReasonNoMapping, fmt.Errorf("product %q is not in the EnOS mapping: add it under \"products\"", productKey))
	}
	dev, err := p.Device(did, mac)
	if err != nil {
		return nil, enos.Device{}, rejectf(ReasonNoMapping, err)
	}
	return p, dev, nil
}

func rejectf(reason string, err error) error { return consume.Reject(reason, err) }
