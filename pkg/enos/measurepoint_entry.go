package enos

import (
	"errors"
	"time"
)

// MeasurepointEntry is one params entry of integration.measurepoint.post:
// the values of some measurement points of one device at one time. Values
// are scalars, arrays or QualityValue.
type MeasurepointEntry struct {
	Device
	Time          time.Time
	Measurepoints map[string]any
}

// MarshalJSON encodes the entry in the wire form, time in epoch ms.
func (e MeasurepointEntry) MarshalJSON() ([]byte, error) { return e.appendJSON(nil, nil) }

// appendJSON appends what MarshalJSON returns, sorting the point ids with
// the help of keys (nil: none).
func (e MeasurepointEntry) appendJSON(b []byte, keys *sortedKeys) ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Measurepoints) == 0 {
		return nil, errors.New("entry has no measurepoints")
	}
	ms := e.Time.UnixMilli()
	return appendJSONEntry(b, e.Device, &ms, "measurepoints", e.Measurepoints, keys)
}
