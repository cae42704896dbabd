package snotisim

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// remoteCommand is one entry of a remote control request, in the form of
// the official doc: binary_coding inside data (default hex), source "noti".
type remoteCommand struct {
	Cmd    string `json:"cmd"`
	Source string `json:"source"`
	Data   struct {
		DID          string                     `json:"did"`
		MAC          string                     `json:"mac"`
		ProductKey   string                     `json:"product_key"`
		BinaryCoding string                     `json:"binary_coding"`
		Attrs        map[string]json.RawMessage `json:"attrs"`
		Raw          json.RawMessage            `json:"raw"`
	} `json:"data"`
}

// remoteControl answers remote_control_v2_req (v2 true) or the older
// remote_control_req. Each command is checked against the doc (cmd,
// source, binary coding, the product's writable data points), then against
// the device: unknown and offline devices fail (commands are not queued).
// Accepted write_attrs commands are applied to the fleet's virtual device,
// which reports its new status at once.
func (s *session) remoteControl(m clientMsg, v2 bool) {
	var cmds []remoteCommand
	if err := json.Unmarshal(m.Data, &cmds); err != nil || len(cmds) == 0 {
		s.invalid(codeInvalid, fmt.Sprintf("%s: data must be a non-empty list of {cmd, source, data}", m.Cmd))
		return
	}
	s.srv.b.note(func(sum *Summary) { sum.RemoteControls++ })
	type failure struct{ did, reason string }
	var succeed []string
	var failed []failure
	for _, c := range cmds {
		if reason := s.runRemote(&c); reason != "" {
			failed = append(failed, failure{c.Data.DID, reason})
		} else {
			succeed = append(succeed, c.Data.DID)
		}
	}
	var b []byte
	if v2 {
		type ok struct {
			DID string `json:"did"`
		}
		type ko struct {
			DID    string `json:"did"`
			Reason string `json:"reason"`
		}
		res := struct {
			Succeed []ok `json:"succeed"`
			Failed  []ko `json:"failed"`
		}{Succeed: []ok{}, Failed: []ko{}}
		for _, d := range succeed {
			res.Succeed = append(res.Succeed, ok{d})
		}
		for _, f := range failed {
			res.Failed = append(res.Failed, ko{f.did, f.reason})
		}
		msgID := m.MsgID
		if string(msgID) == "null" {
			msgID = nil
		}
		b, _ = json.Marshal(struct {
			Cmd    string          `json:"cmd"`
			MsgID  json.RawMessage `json:"msg_id,omitempty"` // absent when the request had none
			Result any             `json:"result"`
		}{"remote_control_v2_res", msgID, res})
	} else {
		res := struct {
			Succeed []string            `json:"succeed"`
			Failed  []map[string]string `json:"failed"`
		}{Succeed: []string{}, Failed: []map[string]string{}}
		res.Succeed = append(res.Succeed, succeed...)
		for _, f := range failed {
			res.Failed = append(res.Failed, map[string]string{f.did: f.reason})
		}
		b, _ = json.Marshal(struct {
			Cmd    string `json:"cmd"`
			Result any    `json:"result"`
		}{"remote_control_res", res})
	}
	s.send(append(b, '\n'))
}

// runRemote checks and applies one command; it returns the failure reason,
// or "" on success.
func (s *session) runRemote(c *remoteCommand) string {
	d := &c.Data
	switch c.Source {
	case "noti":
	case "": // required by the doc, omitted by the Go SDK and the Python client
		s.srv.b.note(func(sum *Summary) { sum.RemoteNoSource++ })
	default:
		return fmt.Sprintf("source %q: must be \"noti\"", c.Source)
	}
	if d.DID == "" || d.ProductKey == "" {
		return "did and product_key are required"
	}
	coding := d.BinaryCoding
	if coding == "" {
		coding = "hex"
	}
	if coding != "hex" && coding != "base64" {
		return fmt.Sprintf("binary_coding %q: must be hex or base64", d.BinaryCoding)
	}
	s.srv.b.mu.Lock()
	allowed := s.products[d.ProductKey]
	s.srv.b.mu.Unlock()
	if !allowed {
		return fmt.Sprintf("product_key %q is not logged in on this connection", d.ProductKey)
	}
	p := s.srv.products[d.ProductKey]
	var values map[string]any
	switch c.Cmd {
	case "write_attrs":
		if len(d.Attrs) == 0 {
			return "write_attrs needs attrs"
		}
		var err error
		if values, err = attrValues(p.def, d.Attrs, coding); err != nil {
			return err.Error()
		}
	case "write", "write_v1":
		raw, err := binaryOf(d.Raw, coding)
		if err != nil {
			return fmt.Sprintf("raw: %v", err)
		}
		if len(raw) == 0 {
			return "raw is empty"
		}
	default:
		return fmt.Sprintf("cmd %q: must be write_attrs, write or write_v1", c.Cmd)
	}
	online, known := s.srv.b.isOnline(d.DID)
	switch {
	case !known:
		return "device not found"
	case !online:
		return "device offline"
	}
	s.srv.b.note(func(sum *Summary) { sum.RemoteWrites++ })
	if values != nil && s.srv.fleet != nil {
		s.srv.fleet.write(d.DID, values)
	}
	return ""
}

// attrValues checks attrs against the product's writable data points and
// returns them as Go values: bool, enum index, number, bytes (right-padded
// with zeros to the point's length).
func attrValues(def *definition, attrs map[string]json.RawMessage, coding string) (map[string]any, error) {
	out := make(map[string]any, len(attrs))
	for name, raw := range attrs {
		a := def.attr(name)
		if a == nil {
			return nil, fmt.Errorf("attr %q: no such data point", name)
		}
		if a.Type != gizwits.StatusWritable {
			return nil, fmt.Errorf("attr %q: not writable", name)
		}
		v, err := attrValue(a, raw, coding)
		if err != nil {
			return nil, fmt.Errorf("attr %q: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func attrValue(a *gizwits.Attr, raw json.RawMessage, coding string) (any, error) {
	switch a.DataType {
	case gizwits.Bool:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return b, nil
		}
		var n int
		if json.Unmarshal(raw, &n) == nil && (n == 0 || n == 1) {
			return n == 1, nil
		}
		return nil, errors.New("want true/false or 1/0")
	case gizwits.Enum:
		var label string
		if json.Unmarshal(raw, &label) == nil {
			for i, e := range a.Enum {
				if e == label {
					return i, nil
				}
			}
			return nil, fmt.Errorf("enum label %q unknown", label)
		}
		var i int
		if json.Unmarshal(raw, &i) == nil && i >= 0 && i < len(a.Enum) {
			return i, nil
		}
		return nil, errors.New("want an enum label or index")
	case gizwits.Binary:
		b, err := binaryOf(raw, coding)
		if err != nil {
			return nil, err
		}
		if len(b) > a.Position.Len {
			return nil, errors.New("data length does not match")
		}
		return append(b, make([]byte, a.Position.Len-len(b))...), nil
	default:
		var f float64
		if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) {
			return nil, errors.New("want a number")
		}
		if f < a.Min || (a.Max > a.Min && f > a.Max) {
			return nil, fmt.Errorf("%v out of range %v..%v", f, a.Min, a.Max)
		}
		return f, nil
	}
}

// binaryOf reads binary data: a byte array, or a string in coding.
func binaryOf(raw json.RawMessage, coding string) ([]byte, error) {
	if len(raw) > 0 && raw[0] == '[' {
		var arr []int
		if json.Unmarshal(raw, &arr) != nil {
			return nil, errors.New("want an array of byte values")
		}
		out := make([]byte, len(arr))
		for i, v := range arr {
			if v < 0 || v > 255 {
				return nil, fmt.Errorf("byte %d = %d: must be 0..255", i, v)
			}
			out[i] = byte(v)
		}
		return out, nil
	}
	var str string
	if json.Unmarshal(raw, &str) != nil {
		return nil, errors.New("want a byte array or a string")
	}
	if coding == "base64" {
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, fmt.Errorf("not base64: %w", err)
		}
		return b, nil
	}
	b, err := hex.DecodeString(str)
	if err != nil {
		return nil, fmt.Errorf("not hex (binary_coding is hex unless set to base64 inside data): %w", err)
	}
	return b, nil
}
