package snotisim

import "bytes"

var (
	ackPrefixV2 = []byte(`{"cmd":"event_ack","delivery_id":`)
	ackPrefixV1 = []byte(`{"cmd":"enterprise_event_ack","delivery_id":`)
	msgIDKey    = []byte(`,"msg_id":`)
)

// parseAck reads an ACK in the compact form clients write, without a JSON
// decoder: ACKs are half of all traffic. ok is false for anything else
// (other commands, spaces, escapes, other key orders), which the caller
// then decodes in full.
func parseAck(line []byte, proto string) (deliveryID, msgID []byte, ok bool) {
	prefix := ackPrefixV2
	if proto == protoV1 {
		prefix = ackPrefixV1
	}
	rest, found := bytes.CutPrefix(line, prefix)
	if !found {
		return nil, nil, false
	}
	deliveryID, rest, ok = scalar(rest)
	if !ok {
		return nil, nil, false
	}
	if after, found := bytes.CutPrefix(rest, msgIDKey); found {
		if msgID, rest, ok = scalar(after); !ok {
			return nil, nil, false
		}
	}
	if string(rest) != "}" {
		return nil, nil, false
	}
	return deliveryID, msgID, true
}

// scalar splits a JSON string without escapes or a number off the front.
func scalar(b []byte) (value, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	if b[0] == '"' {
		end := bytes.IndexByte(b[1:], '"')
		if end < 0 || bytes.IndexByte(b[1:end+1], '\\') >= 0 {
			return nil, nil, false
		}
		return b[:end+2], b[end+2:], true
	}
	i := 0
	for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || (b[i] >= '0' && b[i] <= '9')) {
		i++
	}
	if i == 0 {
		return nil, nil, false
	}
	return b[:i], b[i:], true
}
