package main

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// bigSnapshot has every stage and emulator with numbers too large for
// their columns, errors far longer than a line, and control characters.
func bigSnapshot() snapshot {
	long := "sending batch to https://enos.example.com/connect-service/v2.1/integration/measurepoints: Post \"…\": dial tcp 10.0.0.1:443: connect: connection refused\nsecond line\x1b[31m"
	s := snapshot{}
	for i, n := range []string{"ingest", "decoder", "enos-forwarder", "energisme-forwarder", "energisme-files"} {
		s.stages = append(s.stages, stageRow{name: n, up: i != 3, rate: 123456.7 * float64(i+1), total: 9.87e12, lag: 4.5e9,
			retries: 1e15, dlq: 999999, lastErr: strings.Repeat(long, i)})
	}
	s.stages[0].rate = math.NaN() // a first report: no rate yet
	s.sims = []simRow{
		{name: "enos-sim", up: true, counts: []simCount{{"points", 1.23e12}, {"events", 4.5e6}, {"rejected", 12}}},
		{name: "energisme-sim", up: true, counts: []simCount{{"uplinks", 9.99e9}, {"rejected", 0}, {"files", 123456}}},
	}
	return s
}

func TestRenderTableFitsTheWidth(t *testing.T) {
	for _, width := range []int{80, 71, 60, 200} {
		lines := renderTable(bigSnapshot(), width)
		if len(lines) != 1+5+1+2 {
			t.Fatalf("width %d: %d lines, want a header, 5 stages, an emulator header and 2 emulators:\n%s", width, len(lines), strings.Join(lines, "\n"))
		}
		want := min(width, 80)
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > want {
				t.Errorf("width %d: line of %d columns: %q", width, n, l)
			}
			if strings.ContainsAny(l, "\n\r\x1b") {
				t.Errorf("width %d: control characters in %q", width, l)
			}
		}
	}
	lines := renderTable(bigSnapshot(), 80)
	for i, want := range []string{"STAGE", "ingest ", "decoder ", "enos-forwarder ", "energisme-forwarder not answering", "energisme-files ", "EMULATOR", "enos-sim ", "energisme-sim "} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d %q: want it to start with %q", i, lines[i], want)
		}
	}
	for _, want := range []string{"247k/s", "9.9T", "4.5G", "1.0P", "1.0M", "…"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("decoder row %q: want %q", lines[2], want)
		}
	}
	if !strings.Contains(lines[1], " - ") {
		t.Errorf("ingest row %q: want - for the rate of a first report and its lag", lines[1])
	}
	if !strings.Contains(lines[7], "points 1.2T") || !strings.Contains(lines[8], "files 123k") {
		t.Errorf("emulator rows %q, %q", lines[7], lines[8])
	}
}

func TestHuman(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    float64
		want string
	}{
		{"zero", 0, "0"}, {"units", 999, "999"}, {"rounds down to k", 1000, "1.0k"}, {"one decimal", 1234, "1.2k"},
		{"tens of k", 12345, "12k"}, {"hundreds of k", 123456, "123k"}, {"no 1000k", 999_600, "1.0M"},
		{"M", 4.5e6, "4.5M"}, {"G", 7.2e9, "7.2G"}, {"T", 3e13, "30T"}, {"negative", -1500, "-1.5k"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := human(tt.n); got != tt.want {
				t.Errorf("human(%v) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestLastLogError(t *testing.T) {
	log := `{"level":"info","message":"started"}
{"level":"warn","part":"push","error":"energisme: 503","message":"sink failed"}
{"level":"error","component":"energisme-files","error":"dial tcp: connection refused","message":"uploading file failed"}
{"level":"info","message":"uploaded file"}
not json
`
	for _, tt := range []struct {
		name         string
		split, files bool
		want         string
	}{
		{"any", false, false, "dial tcp: connection refused"},
		{"push part", true, false, "energisme: 503"},
		{"file part", true, true, "dial tcp: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastLogError([]byte(log), tt.split, tt.files); got != tt.want {
				t.Errorf("lastLogError = %q, want %q", got, tt.want)
			}
		})
	}
	if got := lastLogError([]byte(`{"level":"info","message":"fine"}`), false, false); got != "" {
		t.Errorf("no warning: got %q, want \"\"", got)
	}
}
