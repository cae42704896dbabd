package enos

import "errors"

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
