package records

import (
	"fmt"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Command kinds, as SNoti's remote_control_v2_req names them.
const (
	CommandWriteAttrs = "write_attrs" // data-point products: Attrs
	CommandWrite      = "write"       // custom-protocol products: Raw
	CommandWriteV1    = "write_v1"    // V1 products: Raw
)

// DeviceCommand is a command for one device on device.commands.v1 (key =
// did).
type DeviceCommand struct {
	CommandID  string
	ProductKey string
	DID        string
	MAC        string
	Kind       string
	// Attrs are the data points to write (write_attrs), in order; a value
	// is nil, bool, int64, float64, string or []byte (extension points).
	Attrs       []DataPoint
	Raw         []byte // write, write_v1
	RequestedAt time.Time
	ExpiresAt   *time.Time
	Requester   string
}

// SchemaName implements Record.
func (*DeviceCommand) SchemaName() string { return "DeviceCommand" }

func (c *DeviceCommand) headers() map[string]string {
	return map[string]string{"event_type": "device_command", "product_key": c.ProductKey, "event_id": c.CommandID}
}

func (c *DeviceCommand) toNative() (map[string]any, error) {
	attrs := make([]any, len(c.Attrs))
	for i, a := range c.Attrs {
		var v any
		if b, ok := a.Value.([]byte); ok {
			v = goavro.Union("bytes", b)
		} else {
			var err error
			if v, err = scalar(a.Value); err != nil {
				return nil, fmt.Errorf("attr %q: %w", a.Name, err)
			}
		}
		attrs[i] = map[string]any{"name": a.Name, "value": v}
	}
	return map[string]any{
		"command_id":   c.CommandID,
		"product_key":  c.ProductKey,
		"did":          c.DID,
		"mac":          c.MAC,
		"kind":         c.Kind,
		"attrs":        attrs,
		"raw":          optBytes(c.Raw),
		"requested_at": c.RequestedAt,
		"expires_at":   optTime(c.ExpiresAt),
		"requester":    c.Requester,
	}, nil
}

func (c *DeviceCommand) fromNative(m map[string]any) error {
	r := &reader{m: m}
	*c = DeviceCommand{
		CommandID:   r.str("command_id"),
		ProductKey:  r.str("product_key"),
		DID:         r.str("did"),
		MAC:         r.str("mac"),
		Kind:        r.str("kind"),
		Raw:         r.bytes("raw"),
		RequestedAt: r.time("requested_at"),
		ExpiresAt:   r.optTime("expires_at"),
		Requester:   r.str("requester"),
	}
	raw, _ := m["attrs"].([]any)
	for i, a := range raw {
		am, ok := a.(map[string]any)
		if !ok {
			return fmt.Errorf("attrs[%d]: got %T, want record", i, a)
		}
		name, _ := am["name"].(string)
		c.Attrs = append(c.Attrs, DataPoint{Name: name, Value: unwrap(am["value"])})
	}
	return r.err
}

// Command result statuses.
const (
	CommandSucceeded = "succeeded"
	CommandFailed    = "failed"
	CommandExpired   = "expired"
	CommandRejected  = "rejected"
)

// CommandResult is what became of one DeviceCommand, on
// device.command-results.v1 (key = did).
type CommandResult struct {
	CommandID   string
	ProductKey  string
	DID         string
	Status      string
	Reason      string
	Path        string // snoti or enterprise_api; "" when not sent
	RequestedAt time.Time
	SentAt      *time.Time
	AnsweredAt  time.Time
	Requester   string
}

// SchemaName implements Record.
func (*CommandResult) SchemaName() string { return "CommandResult" }

func (c *CommandResult) headers() map[string]string {
	return map[string]string{"event_type": "command_" + c.Status, "product_key": c.ProductKey, "event_id": c.CommandID}
}

func (c *CommandResult) toNative() (map[string]any, error) {
	return map[string]any{
		"command_id":   c.CommandID,
		"product_key":  c.ProductKey,
		"did":          c.DID,
		"status":       c.Status,
		"reason":       c.Reason,
		"path":         c.Path,
		"requested_at": c.RequestedAt,
		"sent_at":      optTime(c.SentAt),
		"answered_at":  c.AnsweredAt,
		"requester":    c.Requester,
	}, nil
}

func (c *CommandResult) fromNative(m map[string]any) error {
	r := &reader{m: m}
	*c = CommandResult{
		CommandID:   r.str("command_id"),
		ProductKey:  r.str("product_key"),
		DID:         r.str("did"),
		Status:      r.str("status"),
		Reason:      r.str("reason"),
		Path:        r.str("path"),
		RequestedAt: r.time("requested_at"),
		SentAt:      r.optTime("sent_at"),
		AnsweredAt:  r.time("answered_at"),
		Requester:   r.str("requester"),
	}
	return r.err
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return goavro.Union("long.timestamp-millis", *t)
}

func (r *reader) optTime(f string) *time.Time {
	v := unwrap(r.m[f])
	if v == nil {
		return nil
	}
	t, ok := v.(time.Time)
	if !ok {
		r.fail(f, v, "timestamp")
		return nil
	}
	t = t.UTC()
	return &t
}
