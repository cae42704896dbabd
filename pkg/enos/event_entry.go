package enos

import (
	"errors"
	"time"
)

// EventEntry is one params entry of integration.event.post: events of one
// device at one time, keyed by event id, each with its output parameters.
type EventEntry struct {
	Device
	Time   time.Time
	Events map[string]map[string]any
}

// MarshalJSON encodes the entry in the wire form, time in epoch ms.
func (e EventEntry) MarshalJSON() ([]byte, error) { return e.appendJSON(nil, nil) }

// appendJSON appends what MarshalJSON returns.
func (e EventEntry) appendJSON(b []byte, _ *sortedKeys) ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Events) == 0 {
		return nil, errors.New("entry has no events")
	}
	events := make(map[string]any, len(e.Events))
	for id, params := range e.Events {
		events[id] = params
	}
	ms := e.Time.UnixMilli()
	return appendJSONEntry(b, e.Device, &ms, "events", events, nil)
}
