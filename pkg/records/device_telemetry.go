package records

import (
	"fmt"
	"time"
)

// DeviceTelemetry is the decoded data points of one device at one time, as
// the decoder writes them to device.telemetry.v1.
type DeviceTelemetry struct {
	EventID    string // of the source SnotiEvent
	ProductKey string
	DID        string
	MAC        string
	Time       time.Time
	ReceivedAt time.Time
	Source     string
	Codec      string
	Kind       string
	Points     []DataPoint
}

// DataPoint is one named value: nil, bool, int64, float64 or string.
type DataPoint struct {
	Name  string
	Value any
}

// SchemaName implements Record.
func (*DeviceTelemetry) SchemaName() string { return "DeviceTelemetry" }

func (t *DeviceTelemetry) headers() map[string]string {
	return map[string]string{"event_type": t.Source, "product_key": t.ProductKey, "event_id": t.EventID}
}

func (t *DeviceTelemetry) toNative() (map[string]any, error) {
	points := make([]any, len(t.Points))
	for i, p := range t.Points {
		v, err := scalar(p.Value)
		if err != nil {
			return nil, fmt.Errorf("point %q: %w", p.Name, err)
		}
		points[i] = map[string]any{"name": p.Name, "value": v}
	}
	return map[string]any{
		"event_id":    t.EventID,
		"product_key": t.ProductKey,
		"did":         t.DID,
		"mac":         t.MAC,
		"time":        t.Time,
		"received_at": t.ReceivedAt,
		"source":      t.Source,
		"codec":       t.Codec,
		"kind":        t.Kind,
		"points":      points,
	}, nil
}

func (t *DeviceTelemetry) fromNative(m map[string]any) error {
	r := &reader{m: m}
	*t = DeviceTelemetry{
		EventID:    r.str("event_id"),
		ProductKey: r.str("product_key"),
		DID:        r.str("did"),
		MAC:        r.str("mac"),
		Time:       r.time("time"),
		ReceivedAt: r.time("received_at"),
		Source:     r.str("source"),
		Codec:      r.str("codec"),
		Kind:       r.str("kind"),
	}
	raw, _ := m["points"].([]any)
	t.Points = make([]DataPoint, 0, len(raw))
	for i, p := range raw {
		pm, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("points[%d]: got %T, want record", i, p)
		}
		name, _ := pm["name"].(string)
		t.Points = append(t.Points, DataPoint{Name: name, Value: unwrap(pm["value"])})
	}
	return r.err
}
