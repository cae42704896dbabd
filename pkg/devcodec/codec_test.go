package devcodec_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/devcodec"
)

type goldenFrames struct {
	ProductKey string `json:"product_key"`
	Frames     []struct {
		Name     string                     `json:"name"`
		Hex      string                     `json:"hex"`
		Message  string                     `json:"message"`
		Error    string                     `json:"error"`
		Expected map[string]json.RawMessage `json:"expected"`
	} `json:"frames"`
}

var errorKinds = map[string]error{
	"too_short":       devcodec.ErrTooShort,
	"length_mismatch": devcodec.ErrLengthMismatch,
	"unknown_message": devcodec.ErrUnknownMessage,
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.frames.json")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c := loadCodec(t, strings.TrimSuffix(file, ".frames.json")+".json")
			var g goldenFrames
			b, _ := os.ReadFile(file)
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			for _, fr := range g.Frames {
				t.Run(fr.Name, func(t *testing.T) {
					raw, err := hex.DecodeString(fr.Hex)
					if err != nil {
						t.Fatal(err)
					}
					m, err := c.Decode(raw)
					if fr.Error != "" {
						if !errors.Is(err, errorKinds[fr.Error]) {
							t.Fatalf("Decode error = %v, want %s", err, fr.Error)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if m.Name != fr.Message {
						t.Errorf("message = %q, want %q", m.Name, fr.Message)
					}
					got := map[string]string{}
					for _, f := range m.Fields {
						j, _ := json.Marshal(f.Value)
						got[f.Name] = string(j)
					}
					for name, want := range fr.Expected {
						var w bytes.Buffer
						_ = json.Compact(&w, want)
						if got[name] != w.String() {
							t.Errorf("%s = %s, want %s", name, got[name], w.String())
						}
					}
					if len(got) != len(fr.Expected) {
						t.Errorf("decoded %d fields, expected %d", len(got), len(fr.Expected))
					}
				})
			}
		})
	}
}

func loadCodec(t testing.TB, path string) *devcodec.Codec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := devcodec.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr string // substring; "" = valid
	}{
		{name: "minimal", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8"}]}]}`},
		{name: "length invalid for type", spec: `{"messages":[{"name":"m","fields":[{"name":"x","offset":0,"type":"u8"},{"name":"y","offset":1,"type":"u8"},{"name":"z","offset":2,"type":"u8"},{"name":"temp","offset":3,"length":3,"type":"i16"}]}]}`,
			wantErr: `messages[0].fields[3] "temp": length 3 invalid for i16`},
		{name: "unknown type", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u12"}]}]}`, wantErr: `type "u12" unknown`},
		{name: "offset missing", spec: `{"messages":[{"name":"m","fields":[{"name":"a","type":"u8"}]}]}`, wantErr: `"a": offset missing`},
		{name: "negative offset", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":-1,"type":"u8"}]}]}`, wantErr: "offset -1 negative"},
		{name: "bytes without length", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"bytes"}]}]}`, wantErr: "length 0 invalid for bytes"},
		{name: "bits out of container", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"bits","bit":6,"bits":3}]}]}`, wantErr: "bit 6 bits 3 do not fit 1 byte(s)"},
		{name: "bit on an integer", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8","bit":1}]}]}`, wantErr: "only apply to type bits"},
		{name: "scale on ascii", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"length":2,"type":"ascii","scale":2}]}]}`, wantErr: "scale/add do not apply to ascii"},
		{name: "scale zero", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8","scale":0}]}]}`, wantErr: "scale must be a non-zero"},
		{name: "enum with scale", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8","scale":2,"enum":["x"]}]}]}`, wantErr: "enum and scale/add exclude"},
		{name: "enum on float", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"f32","enum":["x"]}]}]}`, wantErr: "enum does not apply to f32"},
		{name: "enum bad key", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8","enum":{"one":"x"}}]}]}`, wantErr: `enum key "one"`},
		{name: "duplicate field", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8"},{"name":"a","offset":1,"type":"u8"}]}]}`, wantErr: "name already used by fields[0]"},
		{name: "byte order", spec: `{"byte_order":"middle","messages":[{"name":"m","fields":[]}]}`, wantErr: `byte_order "middle" unknown`},
		{name: "unknown key", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u8","sclae":2}]}]}`, wantErr: `unknown field "sclae"`},
		{name: "no messages", spec: `{"messages":[]}`, wantErr: "want at least one"},
		{name: "two messages without dispatch", spec: `{"messages":[{"name":"a","fields":[]},{"name":"b","fields":[]}]}`, wantErr: "without a dispatch"},
		{name: "match without dispatch", spec: `{"messages":[{"name":"a","match":1,"fields":[]}]}`, wantErr: "match without a dispatch"},
		{name: "duplicate match", spec: `{"dispatch":{"offset":0},"messages":[{"name":"a","match":1,"fields":[]},{"name":"b","match":"0x01","fields":[]}]}`, wantErr: "match 0x1 already used by messages[0]"},
		{name: "match too big", spec: `{"dispatch":{"offset":0},"messages":[{"name":"a","match":256,"fields":[]}]}`, wantErr: "does not fit the 1 dispatch byte"},
		{name: "two defaults", spec: `{"dispatch":{"offset":0},"messages":[{"name":"a","fields":[]},{"name":"b","fields":[]}]}`, wantErr: "only one message may be the default"},
		{name: "field past fixed length", spec: `{"messages":[{"name":"m","length":2,"fields":[{"name":"a","offset":1,"type":"u16"}]}]}`, wantErr: "past the message length 2"},
		{name: "dispatch too long", spec: `{"dispatch":{"offset":0,"length":9},"messages":[{"name":"a","match":1,"fields":[]}]}`, wantErr: "length 9 invalid"},
		{name: "not JSON", spec: `{`, wantErr: "parsing codec spec"},
		{name: "all problems at once", spec: `{"messages":[{"name":"m","fields":[{"name":"a","offset":0,"type":"u9"},{"name":"b","offset":0,"type":"bytes"}]}]}`, wantErr: `bits, bytes or ascii; messages[0].fields[1] "b": length 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := devcodec.Parse([]byte(tt.spec))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFallbackMessage(t *testing.T) {
	c, err := devcodec.Parse([]byte(`{"dispatch":{"offset":0},"messages":[
		{"name":"ping","match":0,"fields":[]},
		{"name":"other","fields":[{"name":"kind","offset":0,"type":"u8"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Decode([]byte{7})
	if err != nil || m.Name != "other" || m.Fields[0].Value.Int() != 7 {
		t.Fatalf("Decode = %+v, %v; want the default message", m, err)
	}
}
