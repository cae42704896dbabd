package snoti

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
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

// Pushes whose members have unexpected JSON types are pushes all the same:
// they decode, keep their ids, and the typed fields read what they can.
func TestDecodeToleratesUnexpectedFieldTypes(t *testing.T) {
	tests := []struct {
		name, line string
		check      func(t *testing.T, p *Push)
	}{
		{"NB-IoT online with numeric iccid, imsi, latitude", `{"cmd":"event_push","delivery_id":5,"msg_id":"m","event_type":"device_online","product_key":"pk","did":"d","created_at":1700000000,"ip":"1.2.3.4","latitude":45.764043,"longitude":4.835659,"iccid":89330123456789012345,"imsi":208011234567890}`,
			func(t *testing.T, p *Push) {
				want := &DeviceOnline{IP: "1.2.3.4", Latitude: "45.764043", Longitude: "4.835659", ICCID: "89330123456789012345", IMSI: "208011234567890"}
				if !reflect.DeepEqual(p.Data, want) {
					t.Fatalf("data %#v, want %#v", p.Data, want)
				}
			}},
		{"unknown type with object and number fields", `{"cmd":"event_push","delivery_id":"x7","event_type":"device_weather","product_key":"pk","did":"d","source":3,"city":{"name":"Lyon","zip":69001},"data":[1,2]}`,
			func(t *testing.T, p *Push) {
				if p.Data != nil || p.DataErr != nil {
					t.Fatalf("unknown type: data %#v err %v, want none", p.Data, p.DataErr)
				}
				extra := p.Extra()
				if string(extra["source"]) != "3" || string(extra["city"]) != `{"name":"Lyon","zip":69001}` || len(extra) != 2 {
					t.Fatalf("extra %q: want source and city as raw JSON", extra)
				}
			}},
		{"known type reusing names with other types", `{"cmd":"event_push","delivery_id":1,"event_type":"app2dev_kv","product_key":"pk","did":"d","source":3,"uid":{"id":1},"appid":null,"data":{"on":true}}`,
			func(t *testing.T, p *Push) {
				a, ok := p.Data.(*App2Dev)
				if !ok || a.Source != "3" || a.UID != `{"id":1}` || a.AppID != "" {
					t.Fatalf("data %#v", p.Data)
				}
			}},
		{"nulls in string fields", `{"cmd":"event_push","delivery_id":2,"event_type":"device_online","product_key":null,"did":"d","mac":null,"group_id":null,"created_at":null,"ip":null,"city":null,"iccid":null}`,
			func(t *testing.T, p *Push) {
				if p.ProductKey != "" || p.MAC != "" || !p.CreatedAt.IsZero() || !reflect.DeepEqual(p.Data, &DeviceOnline{}) {
					t.Fatalf("push %+v data %#v", p, p.Data)
				}
			}},
		{"numeric did and event_type", `{"cmd":"event_push","delivery_id":3,"event_type":7,"product_key":"pk","did":12345}`,
			func(t *testing.T, p *Push) {
				if p.DID != "12345" || p.EventType != "7" {
					t.Fatalf("did %q event_type %q", p.DID, p.EventType)
				}
			}},
		{"sub device with numeric child fields", `{"cmd":"event_push","delivery_id":4,"event_type":"sub_device_added","product_key":"pk","did":"gw","child_did":42,"child_mac":true}`,
			func(t *testing.T, p *Push) {
				if !reflect.DeepEqual(p.Data, &SubDevice{ChildDID: "42", ChildMAC: "true"}) {
					t.Fatalf("data %#v", p.Data)
				}
			}},
		{"attr fault with numeric names", `{"cmd":"event_push","delivery_id":6,"event_type":"attr_fault","product_key":"pk","did":"d","event_id":null,"data":{"attr_name":5,"attr_displayname":null,"value":"1"}}`,
			func(t *testing.T, p *Push) {
				if !reflect.DeepEqual(p.Data, &AttrEvent{AttrName: "5", Value: 1}) {
					t.Fatalf("data %#v", p.Data)
				}
			}},
		{"kv data that is not an object", `{"cmd":"event_push","delivery_id":8,"event_type":"device_status_kv","product_key":"pk","did":"d","data":"oops"}`,
			func(t *testing.T, p *Push) {
				if p.DataErr == nil {
					t.Fatal("want DataErr for kv data that is a string")
				}
			}},
		{"no cmd but a delivery id", `{"delivery_id":9,"event_type":"device_offline","did":"d"}`,
			func(t *testing.T, p *Push) {
				if p.DID != "d" {
					t.Fatalf("push %+v", p)
				}
			}},
		{"escaped strings and whitespace", ` { "cmd" : "event_push" , "delivery_id" : 10 , "did" : "d\u00e9" , "event_type":"device_offline" } `,
			func(t *testing.T, p *Push) {
				if p.DID != "dé" {
					t.Fatalf("did %q", p.DID)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, p, inv := decodeLine([]byte(tt.line))
			if p == nil {
				t.Fatalf("want a push, got control %v invalid %+v", w != nil, inv)
			}
			if string(p.Raw) != tt.line {
				t.Fatal("Raw must be the original line")
			}
			if !json.Valid(p.appendAck(nil, ProtocolV2)) {
				t.Fatalf("ack %s is not JSON", p.appendAck(nil, ProtocolV2))
			}
			tt.check(t, p)
		})
	}
}

func TestDecodeControlMessagesWithOddTypesAreStillDispatched(t *testing.T) {
	for _, line := range []string{`{"cmd":"pong","msg":5}`, `{"cmd":"invalid_msg","error_code":"4001","msg":{"a":1}}`, `{"cmd":"subscribe_res","result":"yes"}`} {
		w, p, inv := decodeLine([]byte(line))
		if w == nil || p != nil || inv != nil || w.Cmd == "" {
			t.Errorf("%s: got control %+v push %v invalid %v, want a control message", line, w, p, inv)
		}
	}
}

func TestInvalidReasonSaysWhichRuleFailed(t *testing.T) {
	tests := []struct{ line, kind, reason string }{
		{`hello`, InvalidJSON, "not JSON"},
		{`{"cmd":"event_push","delivery_id":1,`, InvalidJSON, "not JSON"},
		{`{"a":1} {"b":2}`, InvalidJSON, "not JSON"},
		{`[1,2]`, InvalidJSON, "JSON array, not an object"},
		{`"push"`, InvalidJSON, "JSON string, not an object"},
		{`{"cmd":"event_push","event_type":"device_online"}`, InvalidNoDeliveryID, "push without delivery_id"},
		{`{"cmd":"event_push","delivery_id":true}`, InvalidNoDeliveryID, "must be a number or a string"},
	}
	for _, tt := range tests {
		_, _, inv := decodeLine([]byte(tt.line))
		if inv == nil || inv.Kind != tt.kind || !strings.Contains(inv.Reason, tt.reason) || inv.Size != len(tt.line) {
			t.Errorf("%s: invalid %+v, want %s saying %q", tt.line, inv, tt.kind, tt.reason)
		}
	}
}

// scannerCases are lines at the edges of JSON's grammar, for the scanner
// against encoding/json.
var scannerCases = []string{
	`{}`, `{"a":[]}`, `{"a":[1,-0.5e+3,"x\u00e9\n",true,false,null,{"b":{}}]}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
	`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":tru}`, `{"a":1}x`, ` {"a":1} `,
	`{"a":[1,]}`, `{"a":1e}`, `{"a":"` + "\xff" + `"}`, `{"a":{"b":[{"c":[]}]}}`, `{"a":nul`, `{"a":"x`,
	`{"a":"x\"}`, `{"a\"b":"\\","c":"\/\b\f\r\t"}`, "{\"a\":\"\x7f\xc3\xa9\"}", "{\"a\":\"\x1f\"}",
}

// The scanner accepts exactly what encoding/json accepts.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range scannerCases {
		checkScannerAgrees(t, []byte(s))
	}
}

func FuzzScannerAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range scannerCases {
		f.Add([]byte(s))
	}
	f.Fuzz(checkScannerAgrees)
}

func checkScannerAgrees(t *testing.T, line []byte) {
	_, err := scanObject(line)
	if got, want := err == nil, json.Valid(line) && bytes.HasPrefix(bytes.TrimLeft(line, " \t\r\n"), []byte("{")); got != want {
		t.Errorf("%q: scanner valid=%v (%v), encoding/json valid object=%v", line, got, err, want)
	}
}

func TestTooLongPushIsAckableFromItsPrefix(t *testing.T) {
	tests := []struct {
		name, prefix   string
		wantID, wantMs string
	}{
		{"v2 push", `{"cmd":"event_push","delivery_id":123456789012345678901,"msg_id":"m-9","event_type":"device_status_kv","data":{"blob":"AAAA`, "123456789012345678901", `"m-9"`},
		{"v1 push cut in the id", `{"cmd":"enterprise_event_push","delivery_id":12`, "", ""},
		{"control", `{"cmd":"invalid_msg","delivery_id":1,"msg":"xxxx`, "", ""},
		{"not an object", `[{"delivery_id":1}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := tooLongInvalid(&errLineTooLong{prefix: []byte(tt.prefix), size: 5 << 20, limit: 4 << 20}, nil)
			if inv.Kind != InvalidTooLong || inv.Size != 5<<20 || string(inv.DeliveryID) != tt.wantID || string(inv.MsgID) != tt.wantMs || inv.CanAck() != (tt.wantID != "") {
				t.Fatalf("invalid %+v", inv)
			}
			if inv.CanAck() {
				if got := string(inv.push.appendAck(nil, ProtocolV2)); got != `{"cmd":"event_ack","delivery_id":`+tt.wantID+`,"msg_id":`+tt.wantMs+"}\n" {
					t.Fatalf("ack %s", got)
				}
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

// fuzzBasePushes are valid pushes of every shape, for FuzzPushFieldTypes.
var fuzzBasePushes = []string{
	`{"cmd":"event_push","delivery_id":1,"msg_id":"m1","event_type":"device_online","product_key":"pk","did":"d1","mac":"m","group_id":"g","created_at":1700000000.25,"ip":"1.2.3.4","country":"FR","region":"ARA","city":"Lyon","latitude":"45.7","longitude":4.8,"iccid":"8933","imsi":"2080"}`,
	`{"cmd":"enterprise_event_push","delivery_id":"x-2","event_type":"attr_fault","product_key":"pk","did":"d1","created_at":1700000000,"event_id":"e1","data":{"attr_name":"relay","attr_displayname":"Relay","value":1}}`,
	`{"cmd":"event_push","delivery_id":123456789012345678901234567890,"msg_id":7,"event_type":"device_status_raw","product_key":"pk","did":"d1","created_at":"1700000000.5","data":{"raw":"AAAAAwcAAJEEAQID"}}`,
	`{"cmd":"event_push","delivery_id":4,"event_type":"device_status_kv","product_key":"pk","did":"d1","data":{"on":1,"mode":"auto","nested":{"a":[1,2]}}}`,
	`{"cmd":"event_push","delivery_id":5,"event_type":"sub_device_added","product_key":"pk","did":"gw","child_product_key":"cpk","child_did":"c1","child_mac":"cm","child_passcode":"pc"}`,
	`{"cmd":"event_push","delivery_id":6,"event_type":"device_bind","product_key":"pk","did":"d1","app_id":"a1","uid":"u1"}`,
	`{"cmd":"event_push","delivery_id":7,"event_type":"app2dev_raw","product_key":"pk","did":"d1","source":"app","appid":"a1","uid":"u1","enterprise_id":"e1","data":"AQI="}`,
	`{"cmd":"event_push","delivery_id":8,"event_type":"datapoints_changed","product_key":"pk","created_at":1700000000}`,
	`{"cmd":"event_push","delivery_id":9,"event_type":"device_file_download","product_key":"pk","did":"d1","download_url":"https://x/y"}`,
	`{"cmd":"event_push","delivery_id":10,"event_type":"brand_new_type","product_key":"pk","did":"d1","source":"s","city":"c"}`,
}

// mutateField replaces the value of one member of a valid push (not cmd,
// delivery_id or msg_id), or adds a member, with value: its own bytes when
// they are JSON, else a JSON string of them.
func mutateField(base string, field uint8, value []byte) (line []byte, deliveryID, msgID string) {
	members, err := scanObject([]byte(base))
	if err != nil {
		panic(err)
	}
	v := bytes.TrimSpace(value)
	if !json.Valid(v) {
		v, _ = json.Marshal(string(value))
	}
	i := int(field) % (len(members) + 1)
	if i == len(members) {
		members = append(members, member{key: []byte("fuzz_extra"), value: v})
	} else if k := string(members[i].key); k != "cmd" && k != "delivery_id" && k != "msg_id" {
		members[i].value = v
	}
	line = append(line, '{')
	for n, m := range members {
		if n > 0 {
			line = append(line, ',')
		}
		k, _ := json.Marshal(string(m.key))
		line = append(append(append(line, k...), ':'), m.value...)
	}
	line = append(line, '}')
	f := fields(members)
	return line, string(f.raw("delivery_id")), string(f.raw("msg_id"))
}

// FuzzPushFieldTypes changes the JSON type of a field of valid pushes (or
// adds one): the line still decodes as a push, its delivery_id and msg_id
// are intact, its ACK is valid JSON, and its event id ignores a change of
// delivery id (a redelivery).
func FuzzPushFieldTypes(f *testing.F) {
	for i := range fuzzBasePushes {
		for n, v := range []string{`12345678901234567890`, `null`, `{"a":{"b":[1,null]}}`, `[]`, `true`, `-1.5e300`, `"\u0000é"`, `not json`} {
			f.Add(uint8(i), uint8(n*3), []byte(v))
		}
	}
	f.Fuzz(func(t *testing.T, base, field uint8, value []byte) {
		line, deliveryID, msgID := mutateField(fuzzBasePushes[int(base)%len(fuzzBasePushes)], field, value)
		w, p, inv := decodeLine(line)
		if p == nil {
			t.Fatalf("%s: want a push, got control %v invalid %+v", line, w != nil, inv)
		}
		if string(p.DeliveryID) != deliveryID || string(p.MsgID) != msgID {
			t.Fatalf("%s: ids %s %s, want %s %s", line, p.DeliveryID, p.MsgID, deliveryID, msgID)
		}
		if !json.Valid(p.appendAck(nil, ProtocolV2)) || !json.Valid(p.appendAck(nil, ProtocolV1)) {
			t.Fatalf("ack of %s is not JSON", line)
		}
		again := bytes.Replace(line, []byte(`"delivery_id":`+deliveryID), []byte(`"delivery_id":"redelivered"`), 1)
		id2, err := EventID(again)
		if err != nil || id2 != p.EventID() {
			t.Fatalf("%s: redelivery changed the event id (%v)", line, err)
		}
	})
}

// A push split deferred (WithDeferredDecode) has its line and ids and no
// Event until Decode, which then gives exactly what decoding at once gives,
// data errors included; a second call changes nothing. Either way the
// metrics label is the same.
func TestDeferredPushDecodesAsAtOnce(t *testing.T) {
	lines := append(slices.Clone(fuzzBasePushes),
		`{"cmd":"event_push","delivery_id":9,"event_type":"attr_fault","data":"oops"}`,
		`{"cmd":"event_push","delivery_id":9,"event_type":"device_status_kv","data":[1]}`)
	for _, line := range lines {
		_, want, _, wantLabel := splitLine([]byte(line), false)
		_, p, _, label := splitLine([]byte(line), true)
		if want == nil || p == nil {
			t.Fatalf("%s: not a push", line)
		}
		if p.Event != nil || !bytes.Equal(p.Raw, want.Raw) || !bytes.Equal(p.DeliveryID, want.DeliveryID) || !bytes.Equal(p.MsgID, want.MsgID) || label != wantLabel {
			t.Fatalf("%s: deferred %+v (label %q) before Decode; at once %+v (label %q)", line, p, label, want, wantLabel)
		}
		for range 2 {
			p.Decode()
			if !reflect.DeepEqual(p.Event, want.Event) || fmt.Sprint(p.DataErr) != fmt.Sprint(want.DataErr) {
				t.Fatalf("%s: Decode gives %+v; at once %+v", line, p.Event, want.Event)
			}
		}
	}
}

// The metrics label of a deferred push is read from its raw event_type
// without decoding it, and is the label decoding gives: a known type, or
// "other" for an unknown type, a non-string or none.
func TestEventTypeLabel(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{name: "known", raw: `"device_status_kv"`, want: EventDeviceStatusKV},
		{name: "known, escaped", raw: `"device\u005fonline"`, want: EventDeviceOnline},
		{name: "unknown", raw: `"brand_new_type"`, want: "other"},
		{name: "number", raw: `7`, want: "other"},
		{name: "absent", raw: ``, want: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventTypeLabel(json.RawMessage(tt.raw)); got != tt.want {
				t.Errorf("eventTypeLabel(%s) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
	raw := json.RawMessage(`"device_status_raw"`)
	if n := testing.AllocsPerRun(100, func() { _ = eventTypeLabel(raw) }); n != 0 {
		t.Errorf("%v allocations per known label, want none", n)
	}
}

// A deferred push costs the reading goroutine little memory beside its
// line: a small Push, no Event, strings or data until Decode. The pushes
// waiting for their ACK (up to the prefetch, 32767) were most of the
// ingest's heap when each held its decoded fields (over 400 bytes).
func TestDeferredPushIsSmall(t *testing.T) {
	if size := unsafe.Sizeof(Push{}); size > 112 {
		t.Errorf("a Push is %d bytes, want at most 112 (its allocation size class)", size)
	}
	if raceEnabled {
		t.Skip("allocations not measured under the race detector (sync.Pool drops at random)")
	}
	line := []byte(fuzzBasePushes[2])
	const n = 1000
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // as testing.AllocsPerRun
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		_, _, _, _ = splitLine(line, true)
	}
	runtime.ReadMemStats(&after)
	// The Push (112 bytes) and the cmd's text, which the split compares.
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 144 {
		t.Errorf("%d bytes allocated per deferred push, want at most 144", per)
	}
}

// created_at is seconds as a number or as a string holding one; a number
// is read without copying its text.
func TestParseCreatedAt(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want float64
		ok   bool
	}{
		{`1700000000.25`, 1700000000.25, true}, {`1700000000`, 1700000000, true}, {`1.7e9`, 1.7e9, true},
		{`"1700000000.5"`, 1700000000.5, true}, {`"1.7e9"`, 1.7e9, true},
		{``, 0, false}, {`null`, 0, false}, {`"soon"`, 0, false}, {`"1`, 0, false}, {`{}`, 0, false}, {`true`, 0, false},
	} {
		got, ok := parseCreatedAt(json.RawMessage(c.raw))
		if got != c.want || ok != c.ok {
			t.Errorf("parseCreatedAt(%s) = %v, %v; want %v, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
	raw := json.RawMessage(`1700000000.123`)
	if n := testing.AllocsPerRun(100, func() { _, _ = parseCreatedAt(raw) }); n != 0 {
		t.Errorf("parseCreatedAt of a number: %.0f allocations, want 0", n)
	}
}

// eventTypeText reads event_type as rawText does, a known type without
// copying it.
func TestEventTypeText(t *testing.T) {
	for _, raw := range []string{`"device_status_kv"`, `"device\u005fonline"`, `"some_new_type"`, `7`, `null`, ``, `{"a":1}`} {
		if got, want := eventTypeText(json.RawMessage(raw)), rawText(json.RawMessage(raw)); got != want {
			t.Errorf("eventTypeText(%s) = %q, rawText %q", raw, got, want)
		}
	}
	raw := json.RawMessage(`"device_status_raw"`)
	if n := testing.AllocsPerRun(100, func() { _ = eventTypeText(raw) }); n != 0 {
		t.Errorf("eventTypeText of a known type: %.0f allocations, want 0", n)
	}
}
