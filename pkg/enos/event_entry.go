package enos

import (
	"encoding/json"
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
func (e EventEntry) MarshalJSON() ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Events) == 0 {
		return nil, errors.New("entry has no events")
	}
	return json.Marshal(struct {
		Device
		Time   int64                     `json:"time"`
		Events map[string]map[string]any `json:"events"`
	}{e.Device, e.Time.UnixMilli(), e.Events})
}
