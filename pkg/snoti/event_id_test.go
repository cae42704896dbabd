package snoti_test

import (
	"testing"

	"github.com/snotibridge/snotibridge/pkg/snoti"
)

func TestEventIDIsKeptByRedelivery(t *testing.T) {
	orig := `{"cmd":"event_push","delivery_id":1,"msg_id":"m-1","event_type":"device_status_kv","product_key":"pk","did":"d","created_at":1700000000.25,"data":{"b":1,"a":{"y":"é","x":[1,{"q":2,"p":3}]}}}`
	same := []struct{ name, line string }{
		{"new delivery id and msg id", `{"cmd":"event_push","delivery_id":"99","msg_id":77,"event_type":"device_status_kv","product_key":"pk","did":"d","created_at":1700000000.25,"data":{"b":1,"a":{"y":"é","x":[1,{"q":2,"p":3}]}}}`},
		{"no msg id", `{"cmd":"event_push","delivery_id":2,"event_type":"device_status_kv","product_key":"pk","did":"d","created_at":1700000000.25,"data":{"b":1,"a":{"y":"é","x":[1,{"q":2,"p":3}]}}}`},
		{"keys reordered at every depth", `{"data":{"a":{"x":[1,{"p":3,"q":2}],"y":"é"},"b":1},"did":"d","product_key":"pk","created_at":1700000000.25,"event_type":"device_status_kv","msg_id":"m-1","delivery_id":3,"cmd":"event_push"}`},
		{"whitespace and escapes", "{ \"cmd\": \"event_push\", \"delivery_id\": 4,\n \"event_type\": \"device_status_kv\", \"product_key\": \"p\\u006b\", \"did\": \"d\", \"created_at\": 1700000000.25, \"data\": { \"b\": 1, \"a\": { \"y\": \"\\u00e9\", \"x\": [ 1, { \"q\": 2, \"p\": 3 } ] } } }"},
	}
	want, err := snoti.EventID([]byte(orig))
	if err != nil || len(want) != 64 {
		t.Fatalf("EventID = %q, %v: want 64 hex digits", want, err)
	}
	for _, tt := range same {
		if got, err := snoti.EventID([]byte(tt.line)); err != nil || got != want {
			t.Errorf("%s: id %s (%v), want %s", tt.name, got, err, want)
		}
	}
}

// Events that differ only outside data, or deep inside it, have distinct
// ids: every downstream dedupe drops by event_id.
func TestDistinctEventsNeverShareAnID(t *testing.T) {
	pairs := []struct{ name, a, b string }{
		{"bind of two uids in one second",
			`{"cmd":"event_push","delivery_id":1,"event_type":"device_bind","product_key":"pk","did":"d","created_at":1700000000,"app_id":"a","uid":"u1"}`,
			`{"cmd":"event_push","delivery_id":1,"event_type":"device_bind","product_key":"pk","did":"d","created_at":1700000000,"app_id":"a","uid":"u2"}`},
		{"two children added in one second",
			`{"cmd":"event_push","delivery_id":1,"event_type":"sub_device_added","product_key":"pk","did":"gw","created_at":1700000000,"child_did":"c1"}`,
			`{"cmd":"event_push","delivery_id":1,"event_type":"sub_device_added","product_key":"pk","did":"gw","created_at":1700000000,"child_did":"c2"}`},
		{"two downloads",
			`{"cmd":"event_push","delivery_id":1,"event_type":"device_file_download","product_key":"pk","did":"d","created_at":1700000000,"download_url":"https://x/1"}`,
			`{"cmd":"event_push","delivery_id":1,"event_type":"device_file_download","product_key":"pk","did":"d","created_at":1700000000,"download_url":"https://x/2"}`},
		{"string vs number", `{"delivery_id":1,"v":"1"}`, `{"delivery_id":1,"v":1}`},
		{"nested value", `{"delivery_id":1,"data":{"a":{"b":1}}}`, `{"delivery_id":1,"data":{"a":{"b":2}}}`},
		{"member moved between levels", `{"delivery_id":1,"a":1,"data":{}}`, `{"delivery_id":1,"data":{"a":1}}`},
		{"array order", `{"delivery_id":1,"a":[1,2]}`, `{"delivery_id":1,"a":[2,1]}`},
		{"key with a quote", `{"delivery_id":1,"a\"":"b"}`, `{"delivery_id":1,"a":"\"b"}`},
		{"duplicate keys", `{"delivery_id":1,"a":1,"a":2}`, `{"delivery_id":1,"a":1}`},
		{"v1 and v2 cmd", `{"cmd":"event_push","delivery_id":1}`, `{"cmd":"enterprise_event_push","delivery_id":1}`},
	}
	for _, tt := range pairs {
		a, errA := snoti.EventID([]byte(tt.a))
		b, errB := snoti.EventID([]byte(tt.b))
		if errA != nil || errB != nil || a == b {
			t.Errorf("%s: ids %s and %s (%v, %v), want two distinct ids", tt.name, a, b, errA, errB)
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	got, err := snoti.Canonical([]byte(` {"z": [ 1 , {"b":null,"a":true} ], "delivery_id": 5, "a\u00e9": "tab\there \u0041\/", "m": -1.50e3 } `), "delivery_id")
	want := `{"aé":"tab\u0009here A/","m":-1.50e3,"z":[1,{"a":true,"b":null}]}`
	if err != nil || string(got) != want {
		t.Fatalf("Canonical = %s (%v), want %s", got, err, want)
	}
	if _, err := snoti.EventID([]byte(`[1]`)); err == nil {
		t.Fatal("EventID of an array: want an error")
	}
}
