package snoti

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// wireMessage holds the fields of the server's replies (login_res,
// subscribe_res, invalid_msg, remote_control_v2_res, pong). Pushes are not
// decoded into it: decodeLine reads them member by member, tolerantly.
type wireMessage struct {
	Cmd       string          `json:"cmd"`
	MsgID     json.RawMessage `json:"msg_id"`
	Data      json.RawMessage `json:"data"`
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
	if raw[0] != '"' {
		// The usual number: parsed in place, without a copy of its text.
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
