package devcodec_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/devcodec"
)

// TestEncodeRoundTrip decodes each golden payload, encodes the values again
// and expects the same bytes (up to any trailing bytes no field covers).
func TestEncodeRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.frames.json")
	for _, file := range files {
		c := loadCodec(t, strings.TrimSuffix(file, ".frames.json")+".json")
		var g goldenFrames
		b, _ := os.ReadFile(file)
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatal(err)
		}
		for _, fr := range g.Frames {
			if fr.Error != "" {
				continue
			}
			t.Run(fr.Name, func(t *testing.T) {
				raw, _ := hex.DecodeString(fr.Hex)
				m, err := c.Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				values := map[string]any{}
				for _, f := range m.Fields {
					values[f.Name] = f.Value
				}
				p, err := c.Encode(m.Name, values)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if len(p) > len(raw) || !bytes.Equal(p, raw[:len(p)]) {
					t.Fatalf("Encode = %x, decoded from %x", p, raw)
				}
			})
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	c := loadCodec(t, "testdata/golden/heat-meter.json")
	tests := []struct {
		name    string
		message string
		values  map[string]any
		wantErr string
	}{
		{name: "valid", message: "measurement", values: map[string]any{"temp": -40.5, "state": "heating", "door_open": true, "valve": 1, "model": "X"}},
		{name: "unknown message", message: "nope", wantErr: `no message "nope"`},
		{name: "unknown field", message: "measurement", values: map[string]any{"tmp": 1}, wantErr: `no field "tmp"`},
		{name: "i16 out of range", message: "measurement", values: map[string]any{"temp": 4000}, wantErr: "outside -32768..32767"},
		{name: "bad label", message: "measurement", values: map[string]any{"state": "boiling"}, wantErr: `"boiling" is not one of its labels`},
		{name: "bits too wide", message: "measurement", values: map[string]any{"pump_stage": 8}, wantErr: "outside 0..7"},
		{name: "ascii too long", message: "measurement", values: map[string]any{"model": "ABCDEFGHI"}, wantErr: "ascii of at most 8 bytes"},
		{name: "bytes wrong length", message: "measurement", values: map[string]any{"serial": "01"}, wantErr: "is 4 bytes, got 1"},
		{name: "not a number", message: "counters", values: map[string]any{"f32": "x"}, wantErr: "is f32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Encode(tt.message, tt.values)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Encode error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func ExampleCodec_Encode() {
	c, err := devcodec.Parse([]byte(`{"dispatch":{"offset":0},"messages":[{"name":"reading","match":"0x01","fields":[
		{"name":"temp","offset":1,"type":"i16","byte_order":"little","scale":0.1},
		{"name":"door_open","offset":3,"type":"bits","bit":7}]}]}`))
	if err != nil {
		panic(err)
	}
	p, err := c.Encode("reading", map[string]any{"temp": -2.5, "door_open": true})
	if err != nil {
		panic(err)
	}
	m, _ := c.Decode(p)
	fmt.Printf("%x %s %v %v\n", p, m.Name, m.Fields[0].Value, m.Fields[1].Value)
	// Output: 01e7ff80 reading -2.5 true
}
