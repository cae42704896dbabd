package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/devcodec"
)

// TestReadmeCodecExample keeps the README's "Adding a device codec"
// example valid and decoding what it says.
func TestReadmeCodecExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Adding a device codec.*?```json\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no JSON example under \"Adding a device codec\"")
	}
	c, err := devcodec.Parse(m[1])
	if err != nil {
		t.Fatalf("README codec example does not load: %v", err)
	}
	// 0x01 position: lat 48.856357, lon 2.352174, 12.5 km/h, 87 %, locked, riding, -3 °C.
	payload := []byte{0x01, 0x02, 0xE9, 0x7D, 0x25, 0x00, 0x23, 0xE4, 0x2E, 0x00, 0x7D, 87, 0b011, 0xFD}
	msg, err := c.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range msg.Fields {
		got[f.Name] = f.Value.String()
	}
	want := map[string]string{"lat": "48.856357", "lon": "2.352174", "speed_kmh": "12.5", "battery_pct": "87", "locked": "true", "state": "riding", "temp_c": "-3"}
	if msg.Name != "position" {
		t.Errorf("message %q, want position", msg.Name)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s (all: %v)", k, got[k], v, got)
		}
	}
}
