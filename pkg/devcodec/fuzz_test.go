package devcodec_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/devcodec"
)

// FuzzParseDecode fuzzes a spec and a payload together: Parse must reject or
// accept any bytes without panicking, and an accepted spec must decode any
// payload without panicking.
func FuzzParseDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.frames.json")
	for _, file := range files {
		spec, err := os.ReadFile(strings.TrimSuffix(file, ".frames.json") + ".json")
		if err != nil {
			f.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, spec); err != nil {
			f.Fatal(err)
		}
		var g goldenFrames
		b, _ := os.ReadFile(file)
		if err := json.Unmarshal(b, &g); err != nil {
			f.Fatal(err)
		}
		for _, fr := range g.Frames {
			raw, _ := hex.DecodeString(fr.Hex)
			f.Add(c.Bytes(), raw)
		}
	}
	f.Fuzz(func(t *testing.T, spec, payload []byte) {
		c, err := devcodec.Parse(spec)
		if err != nil {
			return
		}
		m, err := c.Decode(payload)
		if err != nil {
			return
		}
		values := map[string]any{}
		for _, fl := range m.Fields {
			if _, err := json.Marshal(fl.Value); err != nil {
				t.Fatalf("field %s: %v", fl.Name, err)
			}
			values[fl.Name] = fl.Value
		}
		_, _ = c.Encode(m.Name, values) // must not panic; exactness is TestEncodeRoundTrip's

	})
}
