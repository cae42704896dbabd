package energisme

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// TimestampLayout is the body's timestamp format: RFC 3339, UTC, milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// Uplink is one device message to push.
type Uplink struct {
	// Time is when the device sent it; it is sent in UTC with milliseconds.
	Time time.Time
	// DeviceID is the device id Energisme knows the device by.
	DeviceID string
	// Payload is the device's raw bytes; it is sent as uppercase hex.
	Payload []byte
	// DeviceType is the type Energisme assigned to the hardware model.
	DeviceType string
}

// Body is the JSON body of a push request.
type Body struct {
	Timestamp  string `json:"timestamp"`
	DeviceID   string `json:"deviceid"`
	Payload    string `json:"payload"`
	DeviceType string `json:"devicetype"`
}

// Body returns the request body for u.
func (u Uplink) Body() Body {
	return Body{
		Timestamp:  u.Time.UTC().Format(TimestampLayout),
		DeviceID:   u.DeviceID,
		Payload:    strings.ToUpper(hex.EncodeToString(u.Payload)),
		DeviceType: u.DeviceType,
	}
}

// MarshalJSON encodes u as the push request body.
func (u Uplink) MarshalJSON() ([]byte, error) {
	if err := u.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(u.Body())
}

func (u Uplink) validate() error {
	var errs []error
	if u.DeviceID == "" {
		errs = append(errs, errors.New("deviceid is empty"))
	}
	if u.DeviceType == "" {
		errs = append(errs, errors.New("devicetype is empty"))
	}
	if len(u.Payload) == 0 {
		errs = append(errs, errors.New("payload is empty"))
	}
	if u.Time.IsZero() {
		errs = append(errs, errors.New("timestamp is zero"))
	}
	return errors.Join(errs...)
}
