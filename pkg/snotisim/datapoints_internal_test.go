package snotisim

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// TestStatusFrameMatchesExample rebuilds the status report of
// shared/examples/datapoints/ev-charger-standard.frames.json from the
// values it decodes to.
func TestStatusFrameMatchesExample(t *testing.T) {
	d, err := parseDefinition(nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]uint64{
		"charge_enable": 1, "mode": 1, "current_limit": 16, "plug_connected": 1, "state": 2,
		"voltage": 2305, "current": 1575, "energy_kwh": 12345, "temperature": 75,
		"alert_overtemp": 0, "alert_overcurrent": 1, "fault_ground": 0, "fault_relay": 0,
	}
	v := rawValues{nums: make([]uint64, len(d.attrs)), bins: make([][]byte, len(d.attrs))}
	for i, a := range d.attrs {
		v.nums[i] = byName[a.Name]
		if a.Name == "session_id" {
			v.bins[i] = []byte{1, 2, 3, 4, 5, 6, 7, 8}
		}
	}
	got, err := d.statusFrame(v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("fleetdata/ev-charger-standard.frames.json")
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Frames []struct {
			Hex string `json:"hex"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(b, &example); err != nil || len(example.Frames) == 0 {
		t.Fatalf("reading the example frames: %v", err)
	}
	if want := example.Frames[0].Hex; hex.EncodeToString(got) != want {
		t.Fatalf("frame\n got %x\nwant %s", got, want)
	}
}

func TestJSONStringsAreASCII(t *testing.T) {
	got := string(appendJSONString(nil, "充电\"桩😀"))
	if got != `"\u5145\u7535\"\u6869\ud83d\ude00"` {
		t.Fatalf("got %s", got)
	}
	var back string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back != "充电\"桩😀" {
		t.Fatalf("round trip %q: %v", back, err)
	}
}

func TestPublishedFieldsAreASCII(t *testing.T) {
	e := Event{EventType: "device_status_kv", Fields: map[string]any{"data": map[string]any{"state": "充电中"}}}
	got, err := e.fieldsJSON()
	if err != nil || string(got) != `{"data":{"state":"\u5145\u7535\u4e2d"}}` {
		t.Fatalf("fields %s (%v): want non-ASCII escaped", got, err)
	}
}
