package energisme

import (
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/jsonappend"
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

// MarshalJSON encodes u as the push request body: what encoding/json
// writes for u.Body() (TestUplinkJSON, FuzzUplinkJSON), without its
// reflection and the intermediate strings.
func (u Uplink) MarshalJSON() ([]byte, error) {
	if err := u.validate(); err != nil {
		return nil, err
	}
	return u.appendJSON(make([]byte, 0, u.jsonSize())), nil
}

// jsonSize is the length of u's JSON when no string needs escaping.
func (u Uplink) jsonSize() int {
	return len(`{"timestamp":"","deviceid":"","payload":"","devicetype":""}`) + len(TimestampLayout) + len(u.DeviceID) + 2*len(u.Payload) + len(u.DeviceType)
}

// appendJSON appends the body of u.
func (u Uplink) appendJSON(b []byte) []byte {
	// The timestamp and hex digits never need escaping.
	b = u.Time.UTC().AppendFormat(append(b, `{"timestamp":"`...), TimestampLayout)
	b = jsonappend.String(append(b, `","deviceid":`...), u.DeviceID)
	b = append(b, `,"payload":"`...)
	const digits = "0123456789ABCDEF"
	for _, c := range u.Payload {
		b = append(b, digits[c>>4], digits[c&0xF])
	}
	b = jsonappend.String(append(b, `","devicetype":`...), u.DeviceType)
	return append(b, '}')
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
