package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/enosfwd"
)

// The example mapping must stay valid and name only data points that the
// example product's codec has.
func TestExampleMapping(t *testing.T) {
	m, err := enosfwd.LoadMapping("mapping.example.json")
	if err != nil {
		t.Fatal(err)
	}
	const pk = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"
	p, ok := m.Lookup(pk)
	if !ok {
		t.Fatalf("product %s is not mapped", pk)
	}
	raw, err := os.ReadFile(filepath.Join("..", "decoder", "codecs", pk+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var codec struct {
		Entities []struct {
			Attrs []struct{ Name string } `json:"attrs"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(raw, &codec); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range codec.Entities {
		for _, a := range e.Attrs {
			names[a.Name] = true
		}
	}
	for dp := range p.Points {
		if !names[dp] {
			t.Errorf("mapping.example.json renames %q, which the codec does not have", dp)
		}
	}
}
