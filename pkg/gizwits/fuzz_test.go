package gizwits_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/value"
)

// goldenDefinitions returns the golden definitions and their frames, the
// seeds of both fuzz targets (besides testdata/fuzz).
func goldenDefinitions(f *testing.F) (defs [][]byte, frames [][]byte) {
	files, _ := filepath.Glob("testdata/golden/*.frames.json")
	for _, file := range files {
		b, err := os.ReadFile(strings.TrimSuffix(file, ".frames.json") + ".json")
		if err != nil {
			f.Fatal(err)
		}
		defs = append(defs, b)
		var g struct {
			Frames []struct{ Hex string } `json:"frames"`
		}
		raw, _ := os.ReadFile(file)
		if err := jsonUnmarshal(raw, &g); err != nil {
			f.Fatal(err)
		}
		for _, fr := range g.Frames {
			if fb, err := hexDecode(fr.Hex); err == nil {
				frames = append(frames, fb)
			}
		}
	}
	return defs, frames
}

// FuzzDecode decodes arbitrary bytes with every golden definition: it must
// never panic, and a status it decodes must encode back to the same values.
func FuzzDecode(f *testing.F) {
	defSrc, frames := goldenDefinitions(f)
	for _, fr := range frames {
		f.Add(fr)
	}
	var defs []*gizwits.Definition
	for _, src := range defSrc {
		d, err := gizwits.Parse(src)
		if err != nil {
			f.Fatal(err)
		}
		defs = append(defs, d)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, d := range defs {
			checkDecode(t, d, raw)
		}
	})
}

// FuzzDefinition fuzzes the definition and the payload together: Parse must
// reject or accept without panicking, and an accepted one must decode any
// payload without panicking.
func FuzzDefinition(f *testing.F) {
	defs, frames := goldenDefinitions(f)
	for i, d := range defs {
		// Compact seeds: the fuzzer minimises every new input it finds, and
		// minimising a pretty-printed 6 KB export stalls it for minutes.
		var c bytes.Buffer
		if err := json.Compact(&c, d); err != nil {
			f.Fatal(err)
		}
		f.Add(c.Bytes(), frames[i%len(frames)])
	}
	f.Fuzz(func(t *testing.T, src, raw []byte) {
		d, err := gizwits.Parse(src)
		if err != nil {
			return
		}
		checkDecode(t, d, raw)
	})
}

func checkDecode(t *testing.T, d *gizwits.Definition, raw []byte) {
	m, err := d.Decode(raw)
	if err != nil || m.Kind != gizwits.KindStatus {
		return
	}
	values := map[string]any{}
	for _, fl := range m.Fields {
		values[fl.Name] = fl.Value
	}
	p0, err := d.AppendP0(nil, m.Action, values)
	if err != nil {
		return // an enum index without a label cannot be encoded back
	}
	again, err := d.Decode(p0)
	if err != nil {
		t.Fatalf("decoding re-encoded %x (from %x): %v", p0, raw, err)
	}
	if !sameFields(m.Fields, again.Fields) {
		t.Fatalf("re-encoded %x decodes to %v, original %x to %v", p0, again.Fields, raw, m.Fields)
	}
}

func sameFields(a, b []value.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}
