package sftpexport_test

import (
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/sftpexport"
)

func TestRender(t *testing.T) {
	at := time.Date(2026, 7, 1, 22, 30, 5, 999_000_000, time.UTC)
	paris := time.FixedZone("CEST", 2*3600)
	rows := []sftpexport.Row{
		{Module: "d1.temp", Time: at, Value: 21.5},
		{Module: "d1.on", Time: at, Value: true},
		{Module: "d1.mode", Time: at, Value: "eco, quiet"},
		{Module: "d1.count", Time: at, Value: int64(42)},
		{Module: "d1.none", Time: at, Value: nil},
	}
	tests := []struct {
		name    string
		format  sftpexport.Format
		loc     *time.Location
		want    string
		wantErr bool
	}{
		{name: "csv utc", format: sftpexport.FormatCSV, want: "module,timestamp,value\n" +
			"d1.temp,2026-07-01 22:30:05,21.5\nd1.on,2026-07-01 22:30:05,true\n" +
			"d1.mode,2026-07-01 22:30:05,\"eco, quiet\"\nd1.count,2026-07-01 22:30:05,42\nd1.none,2026-07-01 22:30:05,\n"},
		{name: "csv paris crosses midnight", format: sftpexport.FormatCSV, loc: paris, want: "module,timestamp,value\n" +
			"d1.temp,2026-07-02 00:30:05,21.5\nd1.on,2026-07-02 00:30:05,true\n" +
			"d1.mode,2026-07-02 00:30:05,\"eco, quiet\"\nd1.count,2026-07-02 00:30:05,42\nd1.none,2026-07-02 00:30:05,\n"},
		{name: "json", format: sftpexport.FormatJSON, want: `[{"module":"d1.temp","timestamp":"2026-07-01 22:30:05","value":21.5},` +
			`{"module":"d1.on","timestamp":"2026-07-01 22:30:05","value":true},` +
			`{"module":"d1.mode","timestamp":"2026-07-01 22:30:05","value":"eco, quiet"},` +
			`{"module":"d1.count","timestamp":"2026-07-01 22:30:05","value":42},` +
			`{"module":"d1.none","timestamp":"2026-07-01 22:30:05","value":null}]` + "\n"},
		{name: "unknown format", format: "yaml", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.format.Render(rows, tt.loc)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Render err = %v, wantErr %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("Render =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    sftpexport.Format
		wantErr bool
	}{
		{name: "csv", in: "csv", want: sftpexport.FormatCSV},
		{name: "JSON upper", in: "JSON", want: sftpexport.FormatJSON},
		{name: "xml", in: " XML ", want: sftpexport.FormatXML},
		{name: "yaml", in: "yaml", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sftpexport.ParseFormat(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestModuleTemplate(t *testing.T) {
	f := sftpexport.ModuleFields{ProductKey: "pk1", DID: "did9", MAC: "AABB", Point: "temp"}
	tests := []struct {
		name    string
		pattern string
		want    string
		wantErr string
	}{
		{name: "default", pattern: sftpexport.DefaultModuleTemplate, want: "did9.temp"},
		{name: "all fields", pattern: "<product_key>/<mac>-<did>:<point>!", want: "pk1/AABB-did9:temp!"},
		{name: "mac only", pattern: "gw-<mac>-<point>", want: "gw-AABB-temp"},
		{name: "unknown placeholder", pattern: "<did>.<pt>", wantErr: "unknown placeholder"},
		{name: "unclosed", pattern: "<did>.<point", wantErr: "unclosed"},
		{name: "no point", pattern: "<did>", wantErr: "must contain"},
		{name: "no device", pattern: "<product_key>.<point>", wantErr: "must contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := sftpexport.ParseModuleTemplate(tt.pattern)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.Render(f); got != tt.want {
				t.Fatalf("Render = %q, want %q", got, tt.want)
			}
			if tmpl.String() != tt.pattern {
				t.Fatalf("String = %q, want %q", tmpl.String(), tt.pattern)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		name    string
		batch   sftpexport.Batch
		format  sftpexport.Format
		want    string
		wantErr bool
	}{
		{name: "one partition", batch: sftpexport.Batch{Prefix: "telemetry", Ranges: []sftpexport.OffsetRange{{Partition: 0, First: 100, Last: 199}}}, format: sftpexport.FormatCSV, want: "telemetry-p0-100-199.csv"},
		{name: "partitions sorted", batch: sftpexport.Batch{Prefix: "telemetry", Ranges: []sftpexport.OffsetRange{{Partition: 3, First: 7, Last: 42}, {Partition: 0, First: 1, Last: 1}}}, format: sftpexport.FormatJSON, want: "telemetry-p0-1-1_p3-7-42.json"},
		{name: "no ranges", batch: sftpexport.Batch{Prefix: "t"}, format: sftpexport.FormatCSV, wantErr: true},
		{name: "first after last", batch: sftpexport.Batch{Prefix: "t", Ranges: []sftpexport.OffsetRange{{Partition: 0, First: 5, Last: 4}}}, format: sftpexport.FormatCSV, wantErr: true},
		{name: "duplicate partition", batch: sftpexport.Batch{Prefix: "t", Ranges: []sftpexport.OffsetRange{{Partition: 1, First: 0, Last: 1}, {Partition: 1, First: 2, Last: 3}}}, format: sftpexport.FormatCSV, wantErr: true},
		{name: "slash in prefix", batch: sftpexport.Batch{Prefix: "a/b", Ranges: []sftpexport.OffsetRange{{Partition: 0, First: 0, Last: 0}}}, format: sftpexport.FormatCSV, wantErr: true},
		{name: "hidden prefix", batch: sftpexport.Batch{Prefix: ".t", Ranges: []sftpexport.OffsetRange{{Partition: 0, First: 0, Last: 0}}}, format: sftpexport.FormatCSV, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.batch.FileName(tt.format)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("FileName = %q, %v; want %q (wantErr %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseModuleTemplate(f *testing.F) {
	for _, s := range []string{"<did>.<point>", "<product_key>/<mac>-<did>:<point>!", "<did", "<>", "a<did>b<point>c>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		tmpl, err := sftpexport.ParseModuleTemplate(pattern)
		if err != nil {
			return
		}
		if got := tmpl.String(); got != pattern {
			t.Fatalf("String() = %q, want %q", got, pattern)
		}
		_ = tmpl.Render(sftpexport.ModuleFields{ProductKey: "p", DID: "d", MAC: "m", Point: "x"})
	})
}
