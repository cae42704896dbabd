package sftpexport_test

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/sftpexport"
)

// TestRenderXML reads the file back with encoding/xml, a standard parser
// that knows nothing of our renderer, and expects every row with its value
// and type.
func TestRenderXML(t *testing.T) {
	at := time.Date(2026, 7, 1, 22, 30, 5, 999_000_000, time.UTC)
	rows := []sftpexport.Row{
		{Module: "d1.temp", Time: at, Value: 21.5},
		{Module: "d1.on", Time: at, Value: true},
		{Module: "d1.mode", Time: at, Value: `eco <quiet> & "fast" 静音`},
		{Module: "d1.count", Time: at, Value: int64(42)},
		{Module: "d1.none", Time: at.Add(time.Hour), Value: nil},
		{Module: "d1.list", Time: at, Value: []any{1.0, "a"}},
	}
	got, err := sftpexport.FormatXML.Render(rows, time.FixedZone("CEST", 2*3600))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60s", got)
	}
	var doc struct {
		XMLName xml.Name
		Rows    []struct {
			Module    string `xml:"module"`
			Timestamp string `xml:"timestamp"`
			Value     struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"value"`
		} `xml:"row"`
	}
	if err := xml.Unmarshal(got, &doc); err != nil {
		t.Fatalf("parsing the XML file: %v\n%s", err, got)
	}
	if doc.XMLName.Space != sftpexport.XMLNamespace || doc.XMLName.Local != "rows" {
		t.Errorf("root %+v", doc.XMLName)
	}
	want := []struct{ module, ts, typ, text string }{
		{"d1.temp", "2026-07-02 00:30:05", "number", "21.5"},
		{"d1.on", "2026-07-02 00:30:05", "boolean", "true"},
		{"d1.mode", "2026-07-02 00:30:05", "string", `eco <quiet> & "fast" 静音`},
		{"d1.count", "2026-07-02 00:30:05", "number", "42"},
		{"d1.none", "2026-07-02 01:30:05", "null", ""},
		{"d1.list", "2026-07-02 00:30:05", "json", `[1,"a"]`},
	}
	if len(doc.Rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(doc.Rows), len(want), got)
	}
	for i, w := range want {
		r := doc.Rows[i]
		if r.Module != w.module || r.Timestamp != w.ts || r.Value.Type != w.typ || r.Value.Text != w.text {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	if sftpexport.FormatXML.Ext() != ".xml" {
		t.Errorf("Ext = %q", sftpexport.FormatXML.Ext())
	}
}
