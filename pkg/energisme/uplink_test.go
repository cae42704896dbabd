package energisme_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/energisme"
)

// checkUplinkJSON fails unless MarshalJSON writes what encoding/json
// writes for the uplink's Body.
func checkUplinkJSON(t *testing.T, u energisme.Uplink) {
	t.Helper()
	got, err := u.MarshalJSON()
	if err != nil {
		t.Fatalf("%+v: %v", u, err)
	}
	want, _ := json.Marshal(u.Body())
	if string(got) != string(want) {
		t.Fatalf("%+v:\ngot  %s\nwant %s", u, got, want)
	}
}

func TestUplinkJSON(t *testing.T) {
	for _, u := range []energisme.Uplink{
		sample,
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 6_789_999, time.FixedZone("x", 3600)), DeviceID: `a"b\c<&>`, Payload: []byte{0, 0xff, 0x0a}, DeviceType: "é\xff\u2028\x01"},
		{Time: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC), DeviceID: "d", Payload: []byte{1}, DeviceType: "t"},
		{Time: time.Unix(-1, 0), DeviceID: "d", Payload: make([]byte, 300), DeviceType: "t"},
	} {
		checkUplinkJSON(t, u)
	}
}

func FuzzUplinkJSON(f *testing.F) {
	f.Add(int64(1556456376599), "123124", []byte{0x23, 0x67, 0xA3}, "dt-1")
	f.Add(int64(-62135596799999), `a"<`, []byte{0}, "é\xff")
	f.Fuzz(func(t *testing.T, ms int64, id string, payload []byte, dt string) {
		if u := time.UnixMilli(ms); id == "" || dt == "" || len(payload) == 0 || u.IsZero() {
			return
		}
		checkUplinkJSON(t, energisme.Uplink{Time: time.UnixMilli(ms), DeviceID: id, Payload: payload, DeviceType: dt})
	})
}
