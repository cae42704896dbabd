package enosfwd

import (
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/enos"
)

// How a device_online or device_offline event reaches EnOS.
const (
	SendAttribute = "attribute" // attributes {id: true|false}
	SendEvent     = "event"     // events {id: {"online": true|false}} at the event's time
	SendNone      = "none"      // not forwarded
)

// Lifecycle says how a device_online or device_offline event is sent: as
// the attribute ID set to true (online) or false (offline), or as the event
// ID with the parameter {"online": true|false}, or not at all.
type Lifecycle struct {
	Send string `json:"send"`
	ID   string `json:"id,omitempty"`
}

func (l Lifecycle) validate(path string) error {
	switch l.Send {
	case SendAttribute, SendEvent:
		if !validID(l.ID) {
			return fmt.Errorf("%s.id=%q: must be the EnOS %s identifier (letters, digits, '_')", path, l.ID, l.Send)
		}
	case SendNone:
	default:
		return fmt.Errorf("%s.send=%q: must be %q, %q or %q", path, l.Send, SendAttribute, SendEvent, SendNone)
	}
	return nil
}

// entry builds what l sends for a device going online (true) or offline
// at t: an attribute entry, an event entry, or nothing.
func (l Lifecycle) entry(dev enos.Device, online bool, t time.Time) (*enos.AttributeEntry, *enos.EventEntry) {
	switch l.Send {
	case SendAttribute:
		return &enos.AttributeEntry{Device: dev, Attributes: map[string]any{l.ID: online}}, nil
	case SendEvent:
		return nil, &enos.EventEntry{Device: dev, Time: t, Events: map[string]map[string]any{l.ID: {"online": online}}}
	}
	return nil, nil
}
