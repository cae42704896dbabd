package ingest_test

import (
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/ingest"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// push decodes line as the SNoti client decodes what it reads.
func push(t *testing.T, line string) *snoti.Push {
	t.Helper()
	p, err := snoti.ParsePush([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRecordKeyPerEventType(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"device event: did", `{"cmd":"event_push","delivery_id":1,"event_type":"device_status_kv","product_key":"pk","did":"d1","data":{}}`, "d1"},
		{"sub device: the gateway's did", `{"cmd":"event_push","delivery_id":1,"event_type":"sub_device_added","product_key":"pk","did":"gw","child_did":"c1"}`, "gw"},
		{"datapoints_changed: product_key", `{"cmd":"event_push","delivery_id":1,"event_type":"datapoints_changed","product_key":"pk"}`, "pk"},
		{"neither: no key", `{"cmd":"event_push","delivery_id":1,"event_type":"mystery"}`, ""},
	}
	for _, tt := range tests {
		k := ingest.RecordKey(push(t, tt.line))
		if string(k) != tt.want || (tt.want == "" && k != nil) {
			t.Errorf("%s: key %q, want %q", tt.name, k, tt.want)
		}
	}
}

func TestToEventKeepsOddlyTypedFields(t *testing.T) {
	e := ingest.ToEvent(push(t, `{"cmd":"event_push","delivery_id":1,"event_type":"device_online","product_key":"pk","did":"d","created_at":1700000000,"ip":"1.2.3.4","latitude":45.5,"longitude":null,"iccid":89330123456789012345,"imsi":208011234567890}`), "v2", time.Now())
	if e.Online == nil || e.Online.ICCID == nil || *e.Online.ICCID != "89330123456789012345" || *e.Online.IMSI != "208011234567890" ||
		e.Online.Latitude == nil || *e.Online.Latitude != 45.5 || e.Online.Longitude != nil {
		t.Fatalf("online %+v", e.Online)
	}
	u := ingest.ToEvent(push(t, `{"cmd":"event_push","delivery_id":2,"event_type":"device_weather","product_key":"pk","did":"d","source":3,"city":{"name":"Lyon"},"note":null,"label":"x"}`), "v2", time.Now())
	want := map[string]string{"source": "3", "city": `{"name":"Lyon"}`, "label": "x"}
	if len(u.Attributes) != len(want) {
		t.Fatalf("attributes %v, want %v", u.Attributes, want)
	}
	for k, v := range want {
		if u.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, u.Attributes[k], v)
		}
	}
}
