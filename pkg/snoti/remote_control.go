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

// RemoteCommand is one command of a remote control request: write_attrs
// (Attrs set) or write (Raw set, sent as hex or base64 per the request's
// BinaryCoding).
type RemoteCommand struct {
	DID        string
	MAC        string
	ProductKey string
	Attrs      map[string]any
	Raw        []byte
}

// RemoteControlRequest is a remote_control_v2_req. BinaryCoding is "hex"
// or "base64" (default).
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

func decodeRemoteResult(raw json.RawMessage) (*RemoteControlResult, error) {
	var wire struct {
		Succeed []struct {
			DID flexString `json:"did"`
		} `json:"succeed"`
		Failed []struct {
			DID    flexString `json:"did"`
			Reason flexString `json:"reason"`
		} `json:"failed"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &wire); err != nil {
			return nil, fmt.Errorf("decoding remote control result %.200s: %w", raw, err)
		}
	}
	res := &RemoteControlResult{}
	for _, s := range wire.Succeed {
		res.Succeed = append(res.Succeed, s.DID.String())
	}
	for _, f := range wire.Failed {
		res.Failed = append(res.Failed, RemoteFailure{DID: f.DID.String(), Reason: f.Reason.String()})
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
		return nil, errors.New("snoti: RemoteControl needs SNOTI_PROTOCOL=v2")
	}
	if len(req.Commands) == 0 {
		return nil, errors.New("snoti: remote control request without commands")
	}
	coding := req.BinaryCoding
	if coding == "" {
		coding = "base64"
	}
	if coding != "hex" && coding != "base64" {
		return nil, fmt.Errorf("snoti: BinaryCoding=%q: must be hex or base64", coding)
	}
	cn := c.cur.Load()
	if cn == nil {
		return nil, ErrNotConnected
	}
	msgID := json.RawMessage(strconv.FormatUint(c.msgID.Add(1), 10))
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
		DID        string         `json:"did"`
		MAC        string         `json:"mac,omitempty"`
		ProductKey string         `json:"product_key,omitempty"`
		Attrs      map[string]any `json:"attrs,omitempty"`
		Raw        string         `json:"raw,omitempty"`
	}
	type command struct {
		Cmd  string `json:"cmd"`
		Data target `json:"data"`
	}
	data := make([]command, len(cmds))
	for i, rc := range cmds {
		t := target{DID: rc.DID, MAC: rc.MAC, ProductKey: rc.ProductKey}
		switch {
		case rc.Attrs != nil && rc.Raw != nil:
			return nil, fmt.Errorf("snoti: remote command %d for %q sets both Attrs and Raw: set one", i, rc.DID)
		case rc.Attrs != nil:
			t.Attrs = rc.Attrs
			data[i] = command{Cmd: "write_attrs", Data: t}
		case rc.Raw != nil:
			if coding == "hex" {
				t.Raw = hex.EncodeToString(rc.Raw)
			} else {
				t.Raw = base64.StdEncoding.EncodeToString(rc.Raw)
			}
			data[i] = command{Cmd: "write", Data: t}
		default:
			return nil, fmt.Errorf("snoti: remote command %d for %q has neither Attrs nor Raw", i, rc.DID)
		}
	}
	b, err := json.Marshal(struct {
		Cmd          string          `json:"cmd"`
		MsgID        json.RawMessage `json:"msg_id"`
		Data         []command       `json:"data"`
		BinaryCoding string          `json:"binary_coding"`
	}{"remote_control_v2_req", msgID, data, coding})
	if err != nil {
		return nil, fmt.Errorf("encoding remote control request: %w", err)
	}
	return append(b, '\n'), nil
}

// remoteKey is the waiter key of a remote control reply. Spaces are
// trimmed so "7" and " 7" match; the id's JSON type still matters.
func remoteKey(msgID json.RawMessage) string {
	return "rc:" + string(bytes.TrimSpace(msgID))
}
