package enos

import (
	"encoding/json"
	"errors"
	"time"
)

// Device names an EnOS device, by AssetID or by ProductKey + DeviceKey.
type Device struct {
	AssetID    string `json:"assetId,omitempty"`
	ProductKey string `json:"productKey,omitempty"`
	DeviceKey  string `json:"deviceKey,omitempty"`
}

func (d Device) validate() error {
	if d.AssetID == "" && (d.ProductKey == "" || d.DeviceKey == "") {
		return errors.New("device needs an assetId or both productKey and deviceKey")
	}
	return nil
}

// QualityValue is a measurement point value with a quality flag.
type QualityValue struct {
	Value   any `json:"value"`
	Quality int `json:"quality"`
}

// MeasurepointEntry is one params entry of integration.measurepoint.post:
// the values of some measurement points of one device at one time. Values
// are scalars, arrays or QualityValue.
type MeasurepointEntry struct {
	Device
	Time          time.Time
	Measurepoints map[string]any
}

// MarshalJSON encodes the entry in the wire form, time in epoch ms.
func (e MeasurepointEntry) MarshalJSON() ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Measurepoints) == 0 {
		return nil, errors.New("entry has no measurepoints")
	}
	return json.Marshal(struct {
		Device
		Time          int64          `json:"time"`
		Measurepoints map[string]any `json:"measurepoints"`
	}{e.Device, e.Time.UnixMilli(), e.Measurepoints})
}

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

// AttributeEntry is one params entry of integration.attribute.post: the
// attributes of one device (attributes carry no time).
type AttributeEntry struct {
	Device
	Attributes map[string]any
}

// MarshalJSON encodes the entry in the wire form.
func (e AttributeEntry) MarshalJSON() ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Attributes) == 0 {
		return nil, errors.New("entry has no attributes")
	}
	return json.Marshal(struct {
		Device
		Attributes map[string]any `json:"attributes"`
	}{e.Device, e.Attributes})
}
