package snoti

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestDecodeEveryEventType(t *testing.T) {
	const common = `"product_key":"pk","did":"d1","mac":"m1","group_id":7,"created_at":1700000000.25`
	tests := []struct {
		name string
		line string
		want EventData
	}{
		{"device_online", `{"cmd":"event_push","delivery_id":1,"event_type":"device_online",` + common + `,"ip":"1.2.3.4","country":"FR","region":"ARA","city":"Lyon","latitude":45.76,"longitude":"4.83","iccid":"8933","imsi":"2080"}`,
			&DeviceOnline{IP: "1.2.3.4", Country: "FR", Region: "ARA", City: "Lyon", Latitude: "45.76", Longitude: "4.83", ICCID: "8933", IMSI: "2080"}},
		{"device_offline", `{"cmd":"event_push","delivery_id":1,"event_type":"device_offline",` + common + `}`, &Empty{}},
		{"attr_fault occurs", `{"cmd":"event_push","delivery_id":1,"event_type":"attr_fault",` + common + `,"event_id":"e1","data":{"attr_name":"fault_relay","attr_displayname":"Relay","value":1}}`,
			&AttrEvent{EventID: "e1", AttrName: "fault_relay", AttrDisplayName: "Relay", Value: 1}},
		{"attr_alert clears, numeric event_id", `{"cmd":"event_push","delivery_id":1,"event_type":"attr_alert",` + common + `,"event_id":123,"data":{"attr_name":"hot","attr_displayname":"Hot","value":0}}`,
			&AttrEvent{EventID: "123", AttrName: "hot", AttrDisplayName: "Hot", Value: 0}},
		{"device_status_raw object", `{"cmd":"event_push","delivery_id":1,"event_type":"device_status_raw",` + common + `,"data":{"raw":"AAAAAwcAAJEEAQID"}}`,
			&StatusRaw{Raw: []byte{0, 0, 0, 3, 7, 0, 0, 0x91, 4, 1, 2, 3}}},
		{"device_status_raw bare string", `{"cmd":"event_push","delivery_id":1,"event_type":"device_status_raw",` + common + `,"data":"AAAAAwcAAJEEAQID"}`,
			&StatusRaw{Raw: []byte{0, 0, 0, 3, 7, 0, 0, 0x91, 4, 1, 2, 3}}},
		{"device_status_kv", `{"cmd":"event_push","delivery_id":1,"event_type":"device_status_kv",` + common + `,"data":{"on":1,"mode":"auto"}}`,
			&StatusKV{Values: map[string]json.RawMessage{"on": json.RawMessage("1"), "mode": json.RawMessage(`"auto"`)}}},
		{"datapoints_changed", `{"cmd":"event_push","delivery_id":1,"event_type":"datapoints_changed","product_key":"pk","created_at":1700000000.25}`, &Empty{}},
		{"sub_device_added", `{"cmd":"event_push","delivery_id":1,"event_type":"sub_device_added",` + common + `,"child_product_key":"cpk","child_did":"cd","child_mac":"cm","child_passcode":"pc"}`,
			&SubDevice{ChildProductKey: "cpk", ChildDID: "cd", ChildMAC: "cm", ChildPasscode: "pc"}},
		{"sub_device_deleted", `{"cmd":"event_push","delivery_id":1,"event_type":"sub_device_deleted",` + common + `,"child_did":"cd"}`, &SubDevice{ChildDID: "cd"}},
		{"device_bind", `{"cmd":"event_push","delivery_id":1,"event_type":"device_bind",` + common + `,"app_id":"a1","uid":"u1"}`, &Binding{AppID: "a1", UID: "u1"}},
		{"device_unbind", `{"cmd":"event_push","delivery_id":1,"event_type":"device_unbind",` + common + `,"app_id":"a1","uid":"u1"}`, &Binding{AppID: "a1", UID: "u1"}},
		{"device_reset", `{"cmd":"event_push","delivery_id":1,"event_type":"device_reset",` + common + `}`, &Empty{}},
		{"device_file_download", `{"cmd":"event_push","delivery_id":1,"event_type":"device_file_download",` + common + `,"download_url":"https://x/y"}`, &FileDownload{DownloadURL: "https://x/y"}},
		{"app2dev_raw", `{"cmd":"event_push","delivery_id":1,"event_type":"app2dev_raw",` + common + `,"source":"app","appid":"a1","uid":"u1","enterprise_id":"e1","data":"AQI="}`,
			&App2Dev{Source: "app", AppID: "a1", UID: "u1", EnterpriseID: "e1", Raw: []byte{1, 2}}},
		{"app2dev_kv", `{"cmd":"event_push","delivery_id":1,"event_type":"app2dev_kv",` + common + `,"source":"app","appid":"a1","uid":"u1","enterprise_id":"e1","data":{"on":true}}`,
			&App2Dev{Source: "app", AppID: "a1", UID: "u1", EnterpriseID: "e1", Values: map[string]json.RawMessage{"on": json.RawMessage("true")}}},
		{"device_gps_kv", `{"cmd":"event_push","delivery_id":1,"event_type":"device_gps_kv",` + common + `,"data":{"latitude":45.7,"longitude":4.8}}`,
			&StatusKV{Values: map[string]json.RawMessage{"latitude": json.RawMessage("45.7"), "longitude": json.RawMessage("4.8")}}},
		{"device_lbs_kv", `{"cmd":"event_push","delivery_id":1,"event_type":"device_lbs_kv",` + common + `,"data":{"cell":"c"}}`,
			&StatusKV{Values: map[string]json.RawMessage{"cell": json.RawMessage(`"c"`)}}},
		{"v1 push", `{"cmd":"enterprise_event_push","delivery_id":"x1","event_type":"device_offline",` + common + `}`, &Empty{}},
		{"unknown type", `{"cmd":"event_push","delivery_id":1,"event_type":"quantum_event",` + common + `}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p, inv := decodeLine([]byte(tt.line))
			if inv != nil || p == nil {
				t.Fatalf("want a push, got invalid %+v", inv)
			}
			if p.DataErr != nil {
				t.Fatalf("DataErr: %v", p.DataErr)
			}
			if !reflect.DeepEqual(p.Data, tt.want) {
				t.Fatalf("data %#v, want %#v", p.Data, tt.want)
			}
			if string(p.Raw) != tt.line {
				t.Fatal("Raw must be the original line")
			}
			if p.ProductKey != "pk" || !p.CreatedAt.Equal(time.Unix(1700000000, 250_000_000)) {
				t.Fatalf("common fields: product_key %q created_at %v", p.ProductKey, p.CreatedAt)
			}
		})
	}
}

func TestDecodeCommonFieldsAndIDs(t *testing.T) {
	line := `{"cmd":"event_push","delivery_id":12345678901234567890123,"msg_id":"m-1","event_type":"device_offline","product_key":"pk","did":"d","mac":"m","group_id":"g7","created_at":"1700000000.5"}`
	_, p, _ := decodeLine([]byte(line))
	if string(p.DeliveryID) != "12345678901234567890123" || string(p.MsgID) != `"m-1"` {
		t.Fatalf("ids %s %s: want the raw JSON values", p.DeliveryID, p.MsgID)
	}
	if p.DID != "d" || p.MAC != "m" || p.GroupID != "g7" || string(p.CreatedAtRaw) != `"1700000000.5"` || p.CreatedAt.UnixMilli() != 1700000000500 {
		t.Fatalf("push %+v", p)
	}
	var b []byte
	if got := string(p.appendAck(b, ProtocolV2)); got != `{"cmd":"event_ack","delivery_id":12345678901234567890123,"msg_id":"m-1"}`+"\n" {
		t.Fatalf("v2 ack %s", got)
	}
	if got := string(p.appendAck(b, ProtocolV1)); got != `{"cmd":"enterprise_event_ack","delivery_id":12345678901234567890123}`+"\n" {
		t.Fatalf("v1 ack %s", got)
	}
}

func TestDecodeInvalidLines(t *testing.T) {
	tests := []struct {
		name, line, kind string
	}{
		{"not JSON", `hello`, InvalidJSON},
		{"truncated", `{"cmd":"event_push","delivery_id":1,`, InvalidJSON},
		{"array", `[1,2]`, InvalidJSON},
		{"no delivery_id", `{"cmd":"event_push","event_type":"device_online"}`, InvalidNoDeliveryID},
		{"null delivery_id", `{"cmd":"event_push","delivery_id":null}`, InvalidNoDeliveryID},
		{"object delivery_id", `{"cmd":"event_push","delivery_id":{"a":1}}`, InvalidNoDeliveryID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p, inv := decodeLine([]byte(tt.line))
			if p != nil || inv == nil || inv.Kind != tt.kind || string(inv.Line) != tt.line || inv.Reason == "" {
				t.Fatalf("got push %v invalid %+v, want %s", p, inv, tt.kind)
			}
		})
	}
}

func TestDecodeBadEventDataKeepsThePushAckable(t *testing.T) {
	_, p, inv := decodeLine([]byte(`{"cmd":"event_push","delivery_id":9,"event_type":"attr_fault","data":"oops"}`))
	if inv != nil || p == nil || p.DataErr == nil || p.Data != nil || string(p.DeliveryID) != "9" {
		t.Fatalf("push %+v invalid %+v: want a push with DataErr", p, inv)
	}
}

// FuzzDecodeLine: any line decodes without panicking into exactly one of
// push, invalid report or control message; a push's ids are scalar JSON
// and its ACK line is valid JSON.
func FuzzDecodeLine(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"event_push","delivery_id":1,"msg_id":"a","event_type":"device_status_raw","data":{"raw":"AAAAAwcAAJEEAQID"}}`,
		`{"cmd":"enterprise_event_push","delivery_id":"x","event_type":"attr_alert","event_id":5,"data":{"value":1}}`,
		`{"cmd":"event_push","delivery_id":123456789012345678901234567890,"event_type":"device_status_kv","data":{"a":[1,{"b":null}]}}`,
		`{"cmd":"pong"}`, `{"cmd":"invalid_msg","error_code":4000,"msg":"x"}`, `not json`, `{"cmd":"event_push"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		w, p, inv := decodeLine(line)
		n := 0
		for _, set := range []bool{w != nil, p != nil, inv != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("want exactly one result, got control %v push %v invalid %v", w != nil, p != nil, inv != nil)
		}
		if p == nil {
			return
		}
		if !rawIsScalarID(p.DeliveryID) || (len(p.MsgID) > 0 && !rawIsScalarID(p.MsgID)) {
			t.Fatalf("ids %s %s: not scalar", p.DeliveryID, p.MsgID)
		}
		for _, proto := range []string{ProtocolV1, ProtocolV2} {
			ack := p.appendAck(nil, proto)
			if !json.Valid(ack) {
				t.Fatalf("ack %q is not valid JSON", ack)
			}
		}
	})
}

func BenchmarkDecodeLine(b *testing.B) {
	lines := [][]byte{
		[]byte(`{"cmd":"event_push","delivery_id":1000000001000000001,"msg_id":"m1","event_type":"device_status_raw","product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","did":"simdev0000000000000001","mac":"5ca1ab000001","created_at":1700000000.123456,"sim_seq":1,"data":{"raw":"AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA=="}}`),
		[]byte(`{"cmd":"event_push","delivery_id":7,"msg_id":"m2","event_type":"device_status_kv","product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","did":"simdev0000000000000001","mac":"5ca1ab000001","created_at":1700000000.123456,"data":{"charge_enable":1,"mode":"manual","current_limit":16,"voltage":230.5,"current":15.75,"energy_kwh":12.345,"temperature":35,"session_id":"0102030405060708"}}`),
	}
	b.ReportAllocs()
	for i := range b.N {
		if _, p, _ := decodeLine(lines[i%2]); p == nil || p.DataErr != nil {
			b.Fatal("decode failed")
		}
	}
}
