package snoti

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Remote control commands (data[].cmd of remote_control_v2_req).
const (
	RemoteWriteAttrs = "write_attrs" // data-point products: Attrs
	RemoteWrite      = "write"       // custom-protocol products: Raw
	RemoteWriteV1    = "write_v1"    // V1 products: Raw
)

// RemoteCommand is one command of a remote control request: write_attrs
// (Attrs set) or write / write_v1 (Raw set: everything after command word
// 0x0090; a data-point pass-through starts with 0x05). Cmd may be left
// empty: write_attrs with Attrs, write with Raw. []byte values in Attrs
// (extension data points) are sent like Raw.
type RemoteCommand struct {
	Cmd        string
	DID        string
	MAC        string
	ProductKey string
	Attrs      map[string]any
	Raw        []byte
}

// RemoteControlRequest is a remote_control_v2_req. BinaryCoding says how
// binary data (Raw, []byte attrs) is sent: "" (the default) as a JSON
// array of byte values, the doc's safest form; "hex" or "base64" as a
// string in that coding, with binary_coding set in each command's data as
// the doc requires (the server reads a string as hex when it is absent).
type RemoteControlRequest struct {
	Commands     []RemoteCommand
	BinaryCoding string
}

// RemoteControlResult is the per-device outcome of a remote control
// request. Commands to offline devices fail; they are not queued.
type RemoteControlResult struct {
	Succeed []string        // dids
	Failed  []RemoteFailure // dids and reasons
}

// RemoteFailure names a device whose command failed, and why.
type RemoteFailure struct {
	DID    string
	Reason string
}

// decodeRemoteResult reads the result of remote_control_v2_res
// (succeed: [{"did":…}], failed: [{"did":…,"reason":…}]) and of the older
// remote_control_res (succeed: ["did", …], failed: [{"<did>": reason}]).
func decodeRemoteResult(raw json.RawMessage) (*RemoteControlResult, error) {
	var wire struct {
		Succeed []json.RawMessage `json:"succeed"`
		Failed  []json.RawMessage `json:"failed"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &wire); err != nil {
			return nil, fmt.Errorf("decoding remote control result %.200s: %w", raw, err)
		}
	}
	res := &RemoteControlResult{}
	for _, s := range wire.Succeed {
		var did flexString
		if len(s) > 0 && s[0] == '{' {
			var o struct {
				DID flexString `json:"did"`
			}
			if err := json.Unmarshal(s, &o); err != nil {
				return nil, fmt.Errorf("decoding remote control succeed entry %.200s: %w", s, err)
			}
			did = o.DID
		} else if err := json.Unmarshal(s, &did); err != nil {
			return nil, fmt.Errorf("decoding remote control succeed entry %.200s: %w", s, err)
		}
		res.Succeed = append(res.Succeed, did.String())
	}
	for _, f := range wire.Failed {
		var o map[string]flexString
		if err := json.Unmarshal(f, &o); err != nil {
			return nil, fmt.Errorf("decoding remote control failed entry %.200s: %w", f, err)
		}
		if did, ok := o["did"]; ok {
			res.Failed = append(res.Failed, RemoteFailure{DID: did.String(), Reason: o["reason"].String()})
			continue
		}
		for did, reason := range o { // old form: {"<did>": reason}
			res.Failed = append(res.Failed, RemoteFailure{DID: did, Reason: reason.String()})
		}
	}
	return res, nil
}

// RemoteControl sends req as remote_control_v2_req with a fresh msg_id and
// waits for the matching remote_control_v2_res. Safe for concurrent use;
// replies are matched by msg_id. It returns ErrNotConnected when no
// connection is logged in or the connection is lost before the reply, and
// ctx.Err() when ctx ends first (the commands may then still be executed).
func (c *Client) RemoteControl(ctx context.Context, req RemoteControlRequest) (*RemoteControlResult, error) {
	if c.cfg.Protocol != ProtocolV2 {
		return nil, errors.New("snoti: RemoteControl needs Config.Protocol v2")
	}
	if len(req.Commands) == 0 {
		return nil, errors.New("snoti: remote control request without commands")
	}
	coding := req.BinaryCoding
	if coding != "" && coding != "hex" && coding != "base64" {
		return nil, fmt.Errorf("snoti: BinaryCoding=%q: must be empty (byte arrays), hex or base64", coding)
	}
	cn := c.cur.Load()
	if cn == nil {
		return nil, ErrNotConnected
	}
	msgID := json.RawMessage(strconv.Quote("sb-" + strconv.FormatUint(c.msgID.Add(1), 10)))
	line, err := remoteControlLine(msgID, req.Commands, coding)
	if err != nil {
		return nil, err
	}
	reply, cancel := cn.register(remoteKey(msgID))
	defer cancel()
	if err := cn.send(line); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-cn.done:
		return nil, ErrNotConnected
	case w := <-reply:
		return decodeRemoteResult(w.Result)
	}
}

func remoteControlLine(msgID json.RawMessage, cmds []RemoteCommand, coding string) ([]byte, error) {
	type target struct {
		DID          string         `json:"did"`
		MAC          string         `json:"mac"`
		ProductKey   string         `json:"product_key"`
		BinaryCoding string         `json:"binary_coding,omitempty"`
		Attrs        map[string]any `json:"attrs,omitempty"`
		Raw          any            `json:"raw,omitempty"`
	}
	type command struct {
		Cmd    string `json:"cmd"`
		Source string `json:"source"`
		Data   target `json:"data"`
	}
	data := make([]command, len(cmds))
	for i, rc := range cmds {
		t := target{DID: rc.DID, MAC: rc.MAC, ProductKey: rc.ProductKey, BinaryCoding: coding}
		cmd := rc.Cmd
		switch {
		case rc.Attrs != nil && rc.Raw != nil:
			return nil, fmt.Errorf("snoti: remote command %d for %q sets both Attrs and Raw: set one", i, rc.DID)
		case rc.Attrs != nil:
			if cmd == "" {
				cmd = RemoteWriteAttrs
			}
			if cmd != RemoteWriteAttrs {
				return nil, fmt.Errorf("snoti: remote command %d for %q: Attrs go with %s, not %q", i, rc.DID, RemoteWriteAttrs, cmd)
			}
			t.Attrs = make(map[string]any, len(rc.Attrs))
			for k, v := range rc.Attrs {
				if b, ok := v.([]byte); ok {
					v = binaryValue(b, coding)
				}
				t.Attrs[k] = v
			}
		case rc.Raw != nil:
			if cmd == "" {
				cmd = RemoteWrite
			}
			if cmd != RemoteWrite && cmd != RemoteWriteV1 {
				return nil, fmt.Errorf("snoti: remote command %d for %q: Raw goes with %s or %s, not %q", i, rc.DID, RemoteWrite, RemoteWriteV1, cmd)
			}
			t.Raw = binaryValue(rc.Raw, coding)
		default:
			return nil, fmt.Errorf("snoti: remote command %d for %q has neither Attrs nor Raw", i, rc.DID)
		}
		data[i] = command{Cmd: cmd, Source: "noti", Data: t}
	}
	b, err := json.Marshal(struct {
		Cmd   string          `json:"cmd"`
		MsgID json.RawMessage `json:"msg_id"`
		Data  []command       `json:"data"`
	}{"remote_control_v2_req", msgID, data})
	if err != nil {
		return nil, fmt.Errorf("encoding remote control request: %w", err)
	}
	return append(b, '\n'), nil
}

// byteArray marshals as a JSON array of byte values (encoding/json would
// write a []byte as base64).
type byteArray []byte

func (a byteArray) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 2+4*len(a))
	out = append(out, '[')
	for i, v := range a {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(v), 10)
	}
	return append(out, ']'), nil
}

// binaryValue is binary data in the request's coding: a byte array by
// default, else a hex or base64 string.
func binaryValue(b []byte, coding string) any {
	switch coding {
	case "hex":
		return hex.EncodeToString(b)
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	default:
		return byteArray(b)
	}
}

// remoteKey is the waiter key of a remote control reply. Spaces are
// trimmed so "7" and " 7" match; the id's JSON type still matters.
func remoteKey(msgID json.RawMessage) string {
	return "rc:" + string(bytes.TrimSpace(msgID))
}
