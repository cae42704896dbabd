package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) Results {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestParseRealOutput reads real `go test -bench -benchmem` output of
// several packages (testdata/go-bench.txt: one run of the consuming
// stages' benchmarks, log lines included).
func TestParseRealOutput(t *testing.T) {
	res := parseFile(t, "go-bench.txt")
	cases := []struct {
		pkg, bench, unit string
		want             float64
	}{
		{"pkg/consume", "BenchmarkNoopCopy", "records/s", 0},
		{"services/decoder", "BenchmarkDecoderThroughKafka", "events/s", 0},
		{"services/decoder", "BenchmarkDecoderThroughKafka", "allocs/event", 0},
		{"services/enos-forwarder", "BenchmarkForwarderThroughput/batch=250", "records/s", 5105},
		{"services/enos-forwarder", "BenchmarkForwarderThroughput/batch=1000", "requests/s", 6.743},
		{"services/enos-forwarder", "BenchmarkForwarderThroughput/batch=100", "allocs/op", 235},
		{"services/energisme-forwarder", "BenchmarkPushKafkaToEmulator", "uplinks/s", 2687},
	}
	for _, c := range cases {
		got, ok := res.Median(c.pkg, c.bench, c.unit)
		if !ok || (c.want != 0 && got != c.want) || got <= 0 {
			t.Errorf("%s %s %s = %v, %v; want %v", c.pkg, c.bench, c.unit, got, ok, c.want)
		}
	}
	if _, ok := res.Median("services/decoder", "BenchmarkDecoderThroughKafka-2", "events/s"); ok {
		t.Error("the -GOMAXPROCS suffix is part of the name")
	}
	if _, ok := res.Median("coder", "BenchmarkDecoderThroughKafka", "events/s"); ok {
		t.Error("a package suffix matched in the middle of a path element")
	}
}

// TestTable renders the real run: the figures it has get their value,
// reference, ratio and met; the benchmarks it lacks say so and are not met.
func TestTable(t *testing.T) {
	res := parseFile(t, "go-bench.txt")
	table := Table(res)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2+len(figures) {
		t.Fatalf("%d lines, want a header, a rule and %d rows:\n%s", len(lines), len(figures), table)
	}
	if lines[0] != "| figure | value | reference (same run) | ratio | target | met |" {
		t.Errorf("header %q", lines[0])
	}
	copyRate, _ := res.Median("pkg/consume", "BenchmarkNoopCopy", "records/s")
	for _, l := range lines[2:] {
		cells := strings.Split(strings.Trim(l, "|"), "|")
		if len(cells) != 6 {
			t.Fatalf("row %q: %d cells", l, len(cells))
		}
		met := strings.TrimSpace(cells[5])
		if met != "yes" && met != "no" {
			t.Errorf("row %q: met is %q", l, met)
		}
		if strings.Contains(cells[0], "energisme") {
			if !strings.Contains(cells[2], num(copyRate)) {
				t.Errorf("energisme row's reference is not the no-op copy's %s: %q", num(copyRate), l)
			}
			want := "0." // 2687 uplinks/s against a copy far faster
			if !strings.HasPrefix(strings.TrimSpace(cells[3]), want) || met != "no" {
				t.Errorf("energisme row: %q", l)
			}
		}
		if strings.Contains(cells[0], "ingest") && (strings.TrimSpace(cells[1]) != "not measured" || met != "no") {
			t.Errorf("the run has no ingest benchmark, yet: %q", l)
		}
	}
}

// TestMedianAndSums: repeated runs (-count 3) give the median, peak RSS
// the largest run, the chain's CPU figures the sum of their medians over
// the programs; the chain's runs come from two go test invocations, as in
// make bench.
// The input is go test's format; the values are made up for the test.
func TestMedianAndSums(t *testing.T) {
	out := `goos: linux
pkg: github.com/snotibridge/snotibridge/services/ingest
BenchmarkIngest-2   	       1	40000000000 ns/op	    95000 kafka-producerperf-rec/s	    90000 ingest-events/s	     0.95 ratio	    9.0 p99-ms@5k/s	      50 peak-RSS-MiB
BenchmarkIngest-2   	       1	40000000000 ns/op	   100000 kafka-producerperf-rec/s	   105000 ingest-events/s	     1.05 ratio	   12.0 p99-ms@5k/s	      70 peak-RSS-MiB
BenchmarkIngest-2   	       1	40000000000 ns/op	    90000 kafka-producerperf-rec/s	    99000 ingest-events/s	     1.10 ratio	    8.0 p99-ms@5k/s	      60 peak-RSS-MiB
--- SKIP: BenchmarkIngest
ok  	github.com/snotibridge/snotibridge/services/ingest	120.1s
pkg: github.com/snotibridge/snotibridge/services/enos-forwarder
BenchmarkChainLatency/rate=5000/decoder_batch=default-2         	       1	9000000000 ns/op	20.0 p50-ms	 90.0 p99-ms	30.5 ingest-cpu-ms/1k-events	12.25 decoder-cpu-ms/1k-events	15.0 enos-forwarder-cpu-ms/1k-events
ok  	github.com/snotibridge/snotibridge/services/enos-forwarder	80.0s
pkg: github.com/snotibridge/snotibridge/services/enos-forwarder
BenchmarkChainLatency/rate=5000/decoder_batch=default-2         	       1	9000000000 ns/op	200.0 p50-ms	 400.0 p99-ms	99.0 ingest-cpu-ms/1k-events	50.0 decoder-cpu-ms/1k-events	60.0 enos-forwarder-cpu-ms/1k-events
BenchmarkChainLatency/rate=5000/decoder_batch=default-2         	       1	9000000000 ns/op	18.0 p50-ms	 80.0 p99-ms	10.0 ingest-cpu-ms/1k-events	5.0 decoder-cpu-ms/1k-events	1.0 enos-forwarder-cpu-ms/1k-events
ok  	github.com/snotibridge/snotibridge/services/enos-forwarder	40.0s
`
	res, err := Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	table := Table(res)
	for _, want := range []string{
		"| ingest (events/s), median of runs | 99000 | 95000 (ProducerPerformance) | 1.05 | ≥ 1× ProducerPerformance | yes |",
		"| push → ACK p99 at 5k events/s (ms), median of runs | 9 | — | — | ≤ 10 | yes |",
		"| ingest peak RSS at max prefetch (MiB), largest run | 70 | — | — | ≤ 64 | no |",
		"| CPU per event at 5k events/s (µs), medians of runs | 57.8 (decoder + enos-forwarder + ingest) | — | — | ≤ 60 | yes |",
		"| push → EnOS emulator at 5k events/s, p50 (ms), median of runs | 20 | — | — | ≤ 25 | yes |",
		"| push → EnOS emulator at 5k events/s, p99 (ms), median of runs | 90 | — | — | ≤ 100 | yes |",
		"| decoder through Kafka (events/s) | not measured | — | — | ≥ 0.7× no-op copy | no |",
	} {
		if !strings.Contains(table, want+"\n") {
			t.Errorf("table lacks\n%s\n%s", want, table)
		}
	}
}

// The Energisme push is set against its HTTP ceiling, the client alone
// into the emulator, and the chain's machine load is said, when the run
// measured them; nothing is said otherwise.
func TestNotesSetThePushAgainstItsHTTPCeiling(t *testing.T) {
	out := `pkg: github.com/snotibridge/snotibridge/pkg/sinksim
BenchmarkEnergismePush-2   	   33734	     36940 ns/op	        57.52 cpu-µs/uplink	     27000 uplinks/s
pkg: github.com/snotibridge/snotibridge/pkg/consume
BenchmarkNoopCopy-2   	       1	 900000000 ns/op	    135000 records/s
pkg: github.com/snotibridge/snotibridge/services/energisme-forwarder
BenchmarkPushKafkaToEmulator-2   	       1	 900000000 ns/op	    24300 uplinks/s
BenchmarkPushAtRoundTrip/rtt=20ms/concurrency=64-2        	       2	 641465968 ns/op	      2495 uplinks/s
BenchmarkPushAtRoundTrip/rtt=20ms/concurrency=8-2         	       2	 572188239 ns/op	       349.7 uplinks/s
pkg: github.com/snotibridge/snotibridge/services/enos-forwarder
BenchmarkChainLatency/rate=5000/decoder_batch=default-2         	       1	9000000000 ns/op	20.0 p50-ms	 96.7 machine-busy-%
`
	res, err := Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := "- Energisme client alone into the emulator, the forwarder's default in flight (pkg/sinksim BenchmarkEnergismePush): 27000 uplinks/s, 0.20× the no-op copy; the energisme-forwarder's push reaches 0.90× it\n" +
		"- the Energisme push to an emulator answering late, as across a WAN (services/energisme-forwarder BenchmarkPushAtRoundTrip): 350 uplinks/s at rtt=20ms, concurrency=8; 2495 uplinks/s at rtt=20ms, concurrency=64\n" +
		"- the whole machine (broker, simulator and emulators included) was 96.7% busy while the 5k events/s chain pushed\n"
	if got := Notes(res, nil); !strings.HasSuffix(got, want) {
		t.Errorf("notes %q, want them to end with %q", got, want)
	}
	if got := Notes(parseFile(t, "go-bench.txt"), nil); got != "" {
		t.Errorf("notes %q from a run without the ceiling's benchmark", got)
	}
}

// The chain's warm-up run is given, apart from the medians, when there
// was one.
func TestNotesGiveTheWarmup(t *testing.T) {
	warm, err := Parse(strings.NewReader(`pkg: github.com/snotibridge/snotibridge/services/enos-forwarder
BenchmarkChainLatency/rate=5000/decoder_batch=default-2 1 9000000000 ns/op 41.5 broker-busy-% 17.2 broker-jit-% 30.0 decoder-cpu-ms/1k-events 40.0 ingest-cpu-ms/1k-events 98.5 machine-busy-% 91.2 p50-ms 300.8 p99-ms
`))
	if err != nil {
		t.Fatal(err)
	}
	want := "- the chain at 5k events/s in its warm-up run, left out of the medians (bench-results/warmup.txt): p50 91.2 ms, p99 301 ms, CPU per event 70 µs over the four stages, machine 98.5% busy, the broker 41.5% of the machine (its JIT compiler 17.2%)\n"
	if got := Notes(nil, warm); !strings.HasSuffix(got, want) {
		t.Errorf("notes %q, want them to end with %q", got, want)
	}
	if got := Notes(nil, parseFile(t, "go-bench.txt")); strings.Contains(got, "warm-up") {
		t.Errorf("notes %q from a warm-up without the chain", got)
	}
}

func TestNotesSayWhereTheChainsTimeGoes(t *testing.T) {
	res, err := Parse(strings.NewReader(`pkg: github.com/snotibridge/snotibridge/services/enos-forwarder
BenchmarkChainLatency/rate=5000/decoder_batch=default-2 1 9000000000 ns/op 2.9 decoder-batch-mean-ms 6 decoder-p50-ms 5.88 enos-forwarder-batch-mean-ms 4.32 enos-post-mean-ms 13.1 forwarder-p50-ms 2.34 ingest-p50-ms 24 p50-ms
BenchmarkChainLatency/rate=5000/decoder_batch=default-2 1 9000000000 ns/op 3.1 decoder-batch-mean-ms 8 decoder-p50-ms 7.5 enos-forwarder-batch-mean-ms 6.5 enos-post-mean-ms 18.5 forwarder-p50-ms 4.1 ingest-p50-ms 31 p50-ms
BenchmarkChainLatency/rate=5000/decoder_batch=default-2 1 9000000000 ns/op 3.3 decoder-batch-mean-ms 7 decoder-p50-ms 9.9 enos-forwarder-batch-mean-ms 8.2 enos-post-mean-ms 20.4 forwarder-p50-ms 3.2 ingest-p50-ms 35 p50-ms
`))
	if err != nil {
		t.Fatal(err)
	}
	want := "- where the chain's time at 5k events/s goes, at p50: ingest 3.2 ms, decoder 7 ms, enos-forwarder hop 18.5 ms; handled on average in: a decoder batch 3.1 ms, an enos-forwarder batch 7.5 ms, its measurement-point post 6.5 ms\n"
	if got := Notes(res, nil); !strings.HasSuffix(got, want) {
		t.Errorf("notes %q, want them to end with %q", got, want)
	}
	if got := Notes(parseFile(t, "go-bench.txt"), nil); strings.Contains(got, "where the chain's time") {
		t.Errorf("notes %q from results without the chain", got)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse(strings.NewReader("BenchmarkX-2 1 5 ns/op\n")); err == nil {
		t.Error("a benchmark line before any pkg: line parsed")
	}
	if _, err := Parse(strings.NewReader("pkg: x\nBenchmarkX-2 1 five ns/op\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a bad value: err = %v, want one naming line 2", err)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "summary.md")
	if err := run("testdata/go-bench.txt", out, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "| decoder through Kafka (events/s) |") {
		t.Fatalf("summary.md: %v\n%s", err, b)
	}
	empty := filepath.Join(dir, "empty.txt")
	_ = os.WriteFile(empty, []byte("PASS\n"), 0o644)
	if err := run(empty, out, ""); err == nil {
		t.Error("no results, no error")
	}
	if err := run("testdata/go-bench.txt", out, filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("a missing warm-up file, no error")
	}
}

// TestParseSplitLine: output the benchmark printed between its name and
// its figures (go test writes the name first) does not lose the figures.
func TestParseSplitLine(t *testing.T) {
	out := "pkg: github.com/snotibridge/snotibridge/pkg/consume\n" +
		"BenchmarkNoopCopy-2   \t{\"level\":\"warn\",\"message\":\"rebalancing\"}\n" +
		"| a report | 1 |\n" +
		"       1\t16847589285 ns/op\t     27273 records/s\n"
	res, err := Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := res.Median("pkg/consume", "BenchmarkNoopCopy", "records/s"); !ok || v != 27273 {
		t.Fatalf("records/s = %v, %v", v, ok)
	}
}
