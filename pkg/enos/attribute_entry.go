package enos

import "errors"

// AttributeEntry is one params entry of integration.attribute.post: the
// attributes of one device (attributes carry no time).
type AttributeEntry struct {
	Device
	Attributes map[string]any
}

// MarshalJSON encodes the entry in the wire form.
func (e AttributeEntry) MarshalJSON() ([]byte, error) { return e.appendJSON(nil, nil) }

// appendJSON appends what MarshalJSON returns.
func (e AttributeEntry) appendJSON(b []byte, keys *sortedKeys) ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Attributes) == 0 {
		return nil, errors.New("entry has no attributes")
	}
	return appendJSONEntry(b, e.Device, nil, "attributes", e.Attributes, keys)
}
