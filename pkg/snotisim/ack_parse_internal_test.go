package snotisim

import (
	"encoding/json"
	"testing"
)

func TestParseAckAgreesWithJSON(t *testing.T) {
	tests := []struct {
		name, line, proto string
		fast              bool
	}{
		{"v2 number", `{"cmd":"event_ack","delivery_id":12,"msg_id":"m1"}`, protoV2, true},
		{"v2 bignum no msg_id", `{"cmd":"event_ack","delivery_id":1000000001000000001}`, protoV2, true},
		{"v1 string", `{"cmd":"enterprise_event_ack","delivery_id":"d1-2"}`, protoV1, true},
		{"escaped string falls back", `{"cmd":"event_ack","delivery_id":"a\"b"}`, protoV2, false},
		{"spaces fall back", `{"cmd": "event_ack", "delivery_id": 1}`, protoV2, false},
		{"other order falls back", `{"delivery_id":1,"cmd":"event_ack"}`, protoV2, false},
		{"trailing junk falls back", `{"cmd":"event_ack","delivery_id":1,"x":2}`, protoV2, false},
		{"v1 ack on v2 falls back", `{"cmd":"enterprise_event_ack","delivery_id":1}`, protoV2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, msgID, ok := parseAck([]byte(tt.line), tt.proto)
			if ok != tt.fast {
				t.Fatalf("fast path %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			var m clientMsg
			if err := json.Unmarshal([]byte(tt.line), &m); err != nil {
				t.Fatal(err)
			}
			if string(id) != string(m.DeliveryID) || string(msgID) != string(m.MsgID) {
				t.Fatalf("fast %s %s, json %s %s", id, msgID, m.DeliveryID, m.MsgID)
			}
		})
	}
}

func FuzzParseAck(f *testing.F) {
	f.Add([]byte(`{"cmd":"event_ack","delivery_id":12,"msg_id":"m1"}`))
	f.Add([]byte(`{"cmd":"event_ack","delivery_id":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		id, msgID, ok := parseAck(line, protoV2)
		if !ok {
			return
		}
		var m clientMsg
		if err := json.Unmarshal(line, &m); err != nil {
			return // the fast path accepts some invalid numbers; the ACK then matches no id
		}
		if string(id) != string(m.DeliveryID) || string(msgID) != string(m.MsgID) {
			t.Fatalf("fast %s %s, json %s %s", id, msgID, m.DeliveryID, m.MsgID)
		}
	})
}
