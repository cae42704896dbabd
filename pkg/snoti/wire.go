package snoti

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// wireMessage holds every top-level field any inbound message may carry, so
// a line is decoded in one pass whatever its cmd and event_type.
type wireMessage struct {
	Cmd        string          `json:"cmd"`
	DeliveryID json.RawMessage `json:"delivery_id"`
	MsgID      json.RawMessage `json:"msg_id"`
	EventType  string          `json:"event_type"`
	ProductKey string          `json:"product_key"`
	DID        string          `json:"did"`
	MAC        string          `json:"mac"`
	GroupID    flexString      `json:"group_id"`
	CreatedAt  json.RawMessage `json:"created_at"`
	Data       json.RawMessage `json:"data"`

	// device_online
	IP        string     `json:"ip"`
	Country   string     `json:"country"`
	Region    string     `json:"region"`
	City      string     `json:"city"`
	Latitude  flexString `json:"latitude"`
	Longitude flexString `json:"longitude"`
	ICCID     string     `json:"iccid"`
	IMSI      string     `json:"imsi"`
	// attr_fault, attr_alert
	EventID flexString `json:"event_id"`
	// sub devices
	ChildProductKey string `json:"child_product_key"`
	ChildDID        string `json:"child_did"`
	ChildMAC        string `json:"child_mac"`
	ChildPasscode   string `json:"child_passcode"`
	// bind, app2dev
	AppID        flexString `json:"app_id"`
	AppIDShort   flexString `json:"appid"`
	UID          flexString `json:"uid"`
	Source       string     `json:"source"`
	EnterpriseID flexString `json:"enterprise_id"`
	// device_file_download
	DownloadURL string `json:"download_url"`

	// replies: login_res, subscribe_res, invalid_msg, remote_control_v2_res
	Msg       string          `json:"msg"`
	ErrorCode json.RawMessage `json:"error_code"`
	Result    json.RawMessage `json:"result"`
}

// flexString accepts a JSON string, number or bool and keeps its text:
// fields such as group_id or event_id are seen with several JSON types.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default: // numbers and bools keep their literal
		*f = flexString(b)
	}
	return nil
}

func (f flexString) String() string { return string(f) }

// rawIsScalarID reports whether raw JSON is usable as a delivery id or msg
// id: a number or a string. null, objects and arrays are not.
func rawIsScalarID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	c := raw[0]
	return c == '"' || c == '-' || (c >= '0' && c <= '9')
}

// parseCreatedAt converts created_at (seconds as a float, sometimes sent
// as a string) to seconds; ok is false when absent or not a number.
func parseCreatedAt(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
