package gizwits_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/value"
)

// goldenFrames is the format of testdata/golden/<name>.frames.json, the one
// of the shared examples: frames of the product defined in <name>.json with
// the values (or the error kind, or the message kind) they decode to.
type goldenFrames struct {
	ProductKey string `json:"product_key"`
	Frames     []struct {
		Name     string                     `json:"name"`
		Base64   string                     `json:"base64"`
		Hex      string                     `json:"hex"`
		Kind     string                     `json:"kind"`
		Cmd      *uint16                    `json:"cmd"`
		SN       *uint32                    `json:"sn"`
		Error    string                     `json:"error"`
		Expected map[string]json.RawMessage `json:"expected"`
	} `json:"frames"`
}

var errorKinds = map[string]error{
	"too_short":       gizwits.ErrTooShort,
	"length_mismatch": gizwits.ErrLengthMismatch,
	"malformed_frame": gizwits.ErrMalformedFrame,
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.frames.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			def := loadDefinition(t, strings.TrimSuffix(file, ".frames.json")+".json")
			var g goldenFrames
			readJSON(t, file, &g)
			if g.ProductKey != def.ProductKey() {
				t.Fatalf("product_key %q, definition has %q", g.ProductKey, def.ProductKey())
			}
			for _, fr := range g.Frames {
				t.Run(fr.Name, func(t *testing.T) {
					raw := frameBytes(t, fr.Hex, fr.Base64)
					m, err := def.Decode(raw)
					if fr.Error != "" {
						want, ok := errorKinds[fr.Error]
						if !ok {
							t.Fatalf("unknown error kind %q in golden file", fr.Error)
						}
						if !errors.Is(err, want) {
							t.Fatalf("Decode error = %v, want %s", err, fr.Error)
						}
						return
					}
					if err != nil {
						t.Fatalf("Decode: %v", err)
					}
					if fr.Kind != "" && m.Kind.String() != fr.Kind {
						t.Fatalf("kind = %s, want %s", m.Kind, fr.Kind)
					}
					if fr.Cmd != nil && uint16(m.Frame.Cmd) != *fr.Cmd {
						t.Errorf("cmd = %#04x, want %#04x", uint16(m.Frame.Cmd), *fr.Cmd)
					}
					if fr.SN != nil && m.Frame.SN != *fr.SN {
						t.Errorf("sn = %d, want %d", m.Frame.SN, *fr.SN)
					}
					if fr.Expected != nil {
						compareFields(t, m.Fields, fr.Expected)
					}
				})
			}
		})
	}
}

// compareFields checks fields against expected JSON values: same names, and
// each value's JSON form equal to the expected text (230.5 is "230.5").
func compareFields(t *testing.T, fields []value.Field, expected map[string]json.RawMessage) {
	t.Helper()
	got := map[string]string{}
	for _, f := range fields {
		b, err := json.Marshal(f.Value)
		if err != nil {
			t.Fatalf("encoding %s: %v", f.Name, err)
		}
		got[f.Name] = string(b)
	}
	for name, want := range expected {
		var compact bytes.Buffer
		if err := json.Compact(&compact, want); err != nil {
			t.Fatal(err)
		}
		if g, ok := got[name]; !ok {
			t.Errorf("%s: missing, want %s", name, compact.String())
		} else if g != compact.String() {
			t.Errorf("%s = %s, want %s", name, g, compact.String())
		}
	}
	for name, g := range got {
		if _, ok := expected[name]; !ok {
			t.Errorf("%s = %s: not expected", name, g)
		}
	}
}

func frameBytes(t *testing.T, hexStr, b64 string) []byte {
	t.Helper()
	var raw []byte
	var err error
	if b64 != "" {
		raw, err = base64.StdEncoding.DecodeString(b64)
		if err == nil && hexStr != "" && hex.EncodeToString(raw) != strings.ToLower(hexStr) {
			t.Fatalf("base64 and hex disagree")
		}
	} else {
		raw, err = hex.DecodeString(hexStr)
	}
	if err != nil {
		t.Fatalf("golden frame bytes: %v", err)
	}
	return raw
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func loadDefinition(t testing.TB, path string) *gizwits.Definition {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := gizwits.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
