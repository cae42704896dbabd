package gizwits_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/value"
)

// TestParseEnterpriseAPIDocExample parses the example response of the
// Enterprise API's "Get product data points" call as the doc prints it:
// the console's fields plus "ui", "desc" and entity ids.
func TestParseEnterpriseAPIDocExample(t *testing.T) {
	data, err := os.ReadFile("testdata/enterprise-api/datapoint-doc-example.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := gizwits.Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if d.ProductKey() != "4244bf2d79694a259232431b6f2ef46a" || d.PacketVersion() != "0x00000004" {
		t.Errorf("product_key %q packetVersion %q", d.ProductKey(), d.PacketVersion())
	}
	a, ok := d.Attr("switch")
	if !ok || a.Type != gizwits.StatusWritable || a.DataType != gizwits.Bool {
		t.Fatalf("switch = %+v, %v", a, ok)
	}
	m, err := d.Decode([]byte{0x04, 0x01}) // bare P0: status report, switch on
	if err != nil {
		t.Fatal(err)
	}
	if got := value.Map(m.Fields); len(got) != 1 || got["switch"] != true {
		t.Errorf("fields = %+v, want switch=true", m.Fields)
	}
}

// TestAttrTypeLetters: the Enterprise API's table spells the read/write type
// W, R, N, E; a definition in that spelling decodes exactly like the console
// export it stands for.
func TestAttrTypeLetters(t *testing.T) {
	long, err := os.ReadFile("testdata/golden/ev-charger-standard.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(long, &doc); err != nil {
		t.Fatal(err)
	}
	letters := map[string]string{"status_writable": "W", "status_readonly": "R", "alert": "N", "fault": "E"}
	seen := map[string]bool{}
	for _, e := range doc["entities"].([]any) {
		for _, a := range e.(map[string]any)["attrs"].([]any) {
			attr := a.(map[string]any)
			typ := attr["type"].(string)
			attr["type"] = letters[typ]
			seen[typ] = true
		}
	}
	if len(seen) != 4 {
		t.Fatalf("the golden definition should use all four types, uses %v", seen)
	}
	short, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gizwits.Parse(long)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gizwits.Parse(short)
	if err != nil {
		t.Fatalf("Parse with W/R/N/E: %v", err)
	}
	var g goldenFrames
	readJSON(t, "testdata/golden/ev-charger-standard.frames.json", &g)
	for _, fr := range g.Frames {
		raw := frameBytes(t, fr.Hex, fr.Base64)
		mw, errW := want.Decode(raw)
		mg, errG := got.Decode(raw)
		if (errW == nil) != (errG == nil) || !reflect.DeepEqual(mw, mg) {
			t.Errorf("%s: letters decode %+v (%v), long names %+v (%v)", fr.Name, mg, errG, mw, errW)
		}
	}

	_, err = gizwits.Parse([]byte(strings.Replace(string(short), `"type":"W"`, `"type":"X"`, 1)))
	if err == nil || !strings.Contains(err.Error(), `type "X" unknown`) {
		t.Errorf("unknown letter: err = %v", err)
	}
}
