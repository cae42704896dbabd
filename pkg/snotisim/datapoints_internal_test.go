package snotisim

import (
	"encoding/hex"
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
	const want = "000000031a0000910403100509010627000030394b01020304050607080200"
	if hex.EncodeToString(got) != want {
		t.Fatalf("frame\n got %x\nwant %s", got, want)
	}
}
