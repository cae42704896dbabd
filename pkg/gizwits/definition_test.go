package gizwits_test

import (
	"bytes"
	"encoding/hex"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/value"
)

func evCharger(t testing.TB) *gizwits.Definition {
	return loadDefinition(t, "testdata/golden/ev-charger-standard.json")
}

func evValues() map[string]any {
	return map[string]any{
		"charge_enable": true, "mode": "manual", "current_limit": 16,
		"plug_connected": true, "state": "charging", "voltage": 230.5,
		"current": 15.75, "energy_kwh": 12.345, "temperature": 35,
		"session_id": "0102030405060708", "alert_overtemp": false,
		"alert_overcurrent": true, "fault_ground": false, "fault_relay": false,
	}
}

func TestEncodeStatusMatchesExample(t *testing.T) {
	got, err := evCharger(t).EncodeStatus(evValues())
	if err != nil {
		t.Fatal(err)
	}
	want := "000000031a0000910403100509010627000030394b01020304050607080200"
	if hex.EncodeToString(got) != want {
		t.Fatalf("EncodeStatus = %x\nwant            %s", got, want)
	}
}

// TestRoundTrip decodes every status frame of the golden files, encodes the
// decoded values again and expects the same P0 bytes back.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.frames.json")
	for _, file := range files {
		def := loadDefinition(t, strings.TrimSuffix(file, ".frames.json")+".json")
		var g goldenFrames
		readJSON(t, file, &g)
		for _, fr := range g.Frames {
			if fr.Kind != "status" {
				continue
			}
			t.Run(filepath.Base(file)+"/"+fr.Name, func(t *testing.T) {
				m, err := def.Decode(frameBytes(t, fr.Hex, fr.Base64))
				if err != nil {
					t.Fatal(err)
				}
				values := map[string]any{}
				for _, f := range m.Fields {
					values[f.Name] = f.Value
				}
				if strings.Contains(fr.Name, "without a label") || strings.Contains(fr.Name, "over its labels") {
					return // an unlabelled index cannot be encoded back as a label
				}
				p0, err := def.AppendP0(nil, m.Action, values)
				if err != nil {
					t.Fatalf("AppendP0: %v", err)
				}
				if !bytes.Equal(p0, m.Frame.P0) {
					t.Fatalf("re-encoded P0 %x, decoded from %x", p0, m.Frame.P0)
				}
			})
		}
	}
}

func TestEncodeVarLen(t *testing.T) {
	def := loadDefinition(t, "testdata/golden/air-purifier-var-len.json")
	all := map[string]any{
		"power": true, "mode": "manual", "fan_speed": 80, "pm25": 999, "temperature": -12.3,
		"humidity": 55, "filter_life": 4294967.295, "child_lock": true, "error_code": "fan",
		"alert_filter": false, "serial": []byte{1, 2, 3, 4},
	}
	frame, err := def.EncodeStatus(all)
	if err != nil {
		t.Fatal(err)
	}
	m, err := def.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"power": "true", "mode": "manual", "fan_speed": "80", "pm25": "999", "temperature": "-12.3",
		"humidity": "55", "filter_life": "4294967.295", "child_lock": "true", "error_code": "fan",
		"alert_filter": "false", "serial": "01020304",
	}
	if len(m.Fields) != len(want) {
		t.Fatalf("decoded %d fields, want %d", len(m.Fields), len(want))
	}
	for _, f := range m.Fields {
		if f.Value.String() != want[f.Name] {
			t.Errorf("%s = %s, want %s", f.Name, f.Value, want[f.Name])
		}
	}
	if _, err := def.EncodeStatus(map[string]any{"power": true}); err == nil {
		t.Error("EncodeStatus with one attr of a var_len product: want an error naming the missing attrs")
	}
	partial, err := def.EncodePartialStatus(map[string]any{"power": true, "pm25": 35, "temperature": 21.5, "mode": "turbo", "error_code": 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(partial); got != "000000030b00009114011b1d00230267" {
		t.Errorf("EncodePartialStatus = %s", got)
	}
}

func TestEncodeErrors(t *testing.T) {
	def := evCharger(t)
	tests := []struct {
		name    string
		change  map[string]any
		drop    string
		wantErr string
	}{
		{name: "valid", change: nil},
		{name: "missing attr", drop: "voltage", wantErr: `attr "voltage" missing`},
		{name: "unknown attr", change: map[string]any{"nope": 1}, wantErr: `no attr "nope"`},
		{name: "bad label", change: map[string]any{"mode": "turbo"}, wantErr: `"turbo" is not one of its labels`},
		{name: "enum index too big", change: map[string]any{"mode": 4}, wantErr: "enum of 2 bits"},
		{name: "enum index", change: map[string]any{"mode": 2}},
		{name: "bool as 0/1", change: map[string]any{"charge_enable": 1}},
		{name: "bool as 2", change: map[string]any{"charge_enable": 2}, wantErr: "is bool"},
		{name: "uint over range", change: map[string]any{"current_limit": 256}, wantErr: "outside 0..255"},
		{name: "uint below addition", change: map[string]any{"temperature": -41}, wantErr: "outside 0..255"},
		{name: "uint as numeric string", change: map[string]any{"voltage": "231.4"}},
		{name: "uint not a number", change: map[string]any{"voltage": "high"}, wantErr: "is uint16"},
		{name: "binary wrong length", change: map[string]any{"session_id": "0102"}, wantErr: "is 8 bytes, got 2"},
		{name: "binary not hex", change: map[string]any{"session_id": "zz"}, wantErr: "decoding hex"},
		{name: "NaN", change: map[string]any{"voltage": math.NaN()}, wantErr: "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := evValues()
			delete(values, tt.drop)
			for k, v := range tt.change {
				values[k] = v
			}
			_, err := def.EncodeStatus(values)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("EncodeStatus: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("EncodeStatus error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if _, err := def.EncodePartialStatus(evValues()); err == nil {
		t.Error("EncodePartialStatus on a standard product: want an error")
	}
	if _, err := def.AppendP0(nil, gizwits.ActionTransparent, evValues()); err == nil {
		t.Error("AppendP0 with action 0x06: want an error")
	}
}

func TestAppendFrameSN(t *testing.T) {
	p0, _ := hex.DecodeString("030002dc089d00000000")
	got, err := gizwits.AppendFrame(nil, gizwits.Frame{Cmd: gizwits.CmdReply, SN: 4, P0: p0})
	if err != nil {
		t.Fatal(err)
	}
	if want := "000000031100009400000004030002dc089d00000000"; hex.EncodeToString(got) != want {
		t.Fatalf("AppendFrame = %x, want %s", got, want)
	}
	// A P0 long enough for a 2-byte length.
	big := bytes.Repeat([]byte{0x06}, 200)
	frame, _ := gizwits.AppendFrame(nil, gizwits.Frame{Cmd: gizwits.CmdDeviceToCloud, P0: big})
	f, err := gizwits.ParseFrame(frame)
	if err != nil || !bytes.Equal(f.P0, big) || frame[4] != 0xcb || frame[5] != 0x01 {
		t.Fatalf("200-byte P0: len bytes %x, err %v", frame[4:6], err)
	}
}

func TestDecodeKV(t *testing.T) {
	def := evCharger(t)
	tests := []struct {
		name    string
		kv      map[string]any
		want    map[string]string // name → value.String() and kind
		wantErr bool
	}{
		{
			name: "bools as 0/1, enum label, scaled numbers, unknown key",
			kv: map[string]any{"charge_enable": 1.0, "mode": "scheduled", "voltage": 230.5, "temperature": 35.0,
				"energy_kwh": 12.345, "session_id": "0A0B", "extra": "x"},
			want: map[string]string{"charge_enable": "bool:true", "mode": "string:scheduled", "voltage": "float:230.5",
				"temperature": "int:35", "energy_kwh": "float:12.345", "session_id": "string:0a0b", "extra": "string:x"},
		},
		{name: "enum as index", kv: map[string]any{"state": 4.0}, want: map[string]string{"state": "string:error"}},
		{name: "float noise rounded to the ratio", kv: map[string]any{"voltage": 230.50000000000003}, want: map[string]string{"voltage": "float:230.5"}},
		{name: "bool out of range", kv: map[string]any{"fault_relay": 3.0}, wantErr: true},
		{name: "integral attr with a fraction", kv: map[string]any{"current_limit": 16.5}, wantErr: true},
		{name: "unknown label", kv: map[string]any{"mode": "turbo"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := def.DecodeKV(nil, tt.kv)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("DecodeKV = %v, want an error", fields)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fields) != len(tt.want) {
				t.Fatalf("got %d fields, want %d: %v", len(fields), len(tt.want), fields)
			}
			for _, f := range fields {
				if got := f.Value.Kind().String() + ":" + f.Value.String(); got != tt.want[f.Name] {
					t.Errorf("%s = %s, want %s", f.Name, got, tt.want[f.Name])
				}
			}
		})
	}
}

func TestDecodeAppendReusesSlice(t *testing.T) {
	def := evCharger(t)
	raw, _ := hex.DecodeString("000000031a0000910403100509010627000030394b01020304050607080200")
	buf := make([]value.Field, 0, 16)
	m, err := def.DecodeAppend(buf, raw)
	if err != nil || len(m.Fields) != 14 || &m.Fields[0] != &buf[:1][0] {
		t.Fatalf("DecodeAppend did not fill the caller's slice: %d fields, %v", len(m.Fields), err)
	}
}
