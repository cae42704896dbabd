package snoti

import (
	"encoding/json"
	"fmt"
)

// Inbound commands.
const (
	cmdPushV1         = "enterprise_event_push"
	cmdPushV2         = "event_push"
	cmdLoginResV1     = "enterprise_login_res"
	cmdLoginResV2     = "login_res"
	cmdPongV1         = "enterprise_pong"
	cmdPongV2         = "pong"
	cmdSubscribeRes   = "subscribe_res"
	cmdUnsubscribeRes = "unsubscribe_res"
	cmdRemoteRes      = "remote_control_v2_res"
	cmdRemoteResOld   = "remote_control_res"
	cmdInvalidMsg     = "invalid_msg"
)

// decodeLine parses one line. It returns either a push, an Invalid report,
// or (both nil) a control message in w for the caller to dispatch.
func decodeLine(line []byte) (w *wireMessage, p *Push, inv *Invalid) {
	w = new(wireMessage)
	if err := json.Unmarshal(line, w); err != nil {
		return nil, nil, &Invalid{Line: line, Kind: InvalidJSON, Reason: fmt.Sprintf("not a JSON object: %v", err)}
	}
	if w.Cmd != cmdPushV1 && w.Cmd != cmdPushV2 {
		return w, nil, nil
	}
	if !rawIsScalarID(w.DeliveryID) {
		reason := "push without delivery_id"
		if len(w.DeliveryID) > 0 {
			reason = fmt.Sprintf("push with delivery_id %.64s: must be a number or a string", w.DeliveryID)
		}
		return nil, nil, &Invalid{Line: line, Kind: InvalidNoDeliveryID, Reason: reason}
	}
	p = &Push{
		Raw:          line,
		EventType:    w.EventType,
		ProductKey:   w.ProductKey,
		DID:          w.DID,
		MAC:          w.MAC,
		GroupID:      w.GroupID.String(),
		CreatedAtRaw: w.CreatedAt,
		DeliveryID:   w.DeliveryID,
		DataRaw:      w.Data,
	}
	if rawIsScalarID(w.MsgID) {
		p.MsgID = w.MsgID
	}
	if s, ok := parseCreatedAt(w.CreatedAt); ok {
		p.CreatedAt = secondsToTime(s)
	}
	p.Data, p.DataErr = decodeEventData(w)
	if p.DataErr != nil {
		p.DataErr = fmt.Errorf("decoding %s: %w", w.EventType, p.DataErr)
	}
	return nil, p, nil
}
