package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A figure is one row of the summary: a metric of one benchmark, the
// reference it is compared with (if any), and the target of issue 16.
type figure struct {
	name         string
	pkg, bench   string
	unit         string
	peak         bool // the largest run, not the median (peak RSS)
	sumSuffix    string
	ref          *metric // the same run's reference; the ratio is value/ref
	ratioUnit    string  // a per-run ratio the benchmark reports itself (median taken)
	atLeastRatio float64 // target: ratio >= this
	atMost       float64 // target: value <= this
}

type metric struct {
	name       string
	pkg, bench string
	unit       string
}

var noopCopy = &metric{name: "no-op copy", pkg: "pkg/consume", bench: "BenchmarkNoopCopy", unit: "records/s"}

// chainPkg and chain5k name the chain benchmark at 5k events/s.
const (
	chainPkg = "services/enos-forwarder"
	chain5k  = "BenchmarkChainLatency/rate=5000/decoder_batch=default"
)

// figures are the targets of issue 16, in its order.
var figures = []figure{
	{name: "decoder through Kafka (events/s)", pkg: "services/decoder", bench: "BenchmarkDecoderThroughKafka", unit: "events/s",
		ref: noopCopy, atLeastRatio: 0.7},
	{name: "decoder allocations per event", pkg: "services/decoder", bench: "BenchmarkDecoderThroughKafka", unit: "allocs/event",
		ref: &metric{name: "no-op copy", pkg: "pkg/consume", bench: "BenchmarkNoopCopy", unit: "allocs/event"}, atMost: 30},
	{name: "enos-forwarder → EnOS emulator, batch 250 (records/s)", pkg: "services/enos-forwarder", bench: "BenchmarkForwarderThroughput/batch=250", unit: "records/s",
		ref: noopCopy, atLeastRatio: 0.5},
	{name: "enos-forwarder → EnOS emulator, batch 1000 (records/s)", pkg: "services/enos-forwarder", bench: "BenchmarkForwarderThroughput/batch=1000", unit: "records/s",
		ref: noopCopy, atLeastRatio: 0.5},
	{name: "energisme-forwarder push → emulator (uplinks/s)", pkg: "services/energisme-forwarder", bench: "BenchmarkPushKafkaToEmulator", unit: "uplinks/s",
		ref: noopCopy, atLeastRatio: 0.5},
	{name: "push → EnOS emulator at 5k events/s, p50 (ms), median of runs", pkg: chainPkg, bench: chain5k, unit: "p50-ms", atMost: 25},
	{name: "push → EnOS emulator at 5k events/s, p99 (ms), median of runs", pkg: chainPkg, bench: chain5k, unit: "p99-ms", atMost: 100},
	// The same without the first second, when the backlog SNoti built
	// while the ingest started drains through every stage at once.
	{name: "push → EnOS emulator at 5k events/s, p50 after the first second (ms), median of runs", pkg: chainPkg, bench: chain5k, unit: "p50-ms-after-1s", atMost: 25},
	{name: "push → EnOS emulator at 5k events/s, p99 after the first second (ms), median of runs", pkg: chainPkg, bench: chain5k, unit: "p99-ms-after-1s", atMost: 100},
	{name: "CPU per event at 5k events/s (µs), medians of runs", pkg: chainPkg, bench: chain5k, sumSuffix: "-cpu-ms/1k-events", atMost: 60},
	{name: "ingest (events/s), median of runs", pkg: "services/ingest", bench: "BenchmarkIngest", unit: "ingest-events/s",
		ref:       &metric{name: "ProducerPerformance", pkg: "services/ingest", bench: "BenchmarkIngest", unit: "kafka-producerperf-rec/s"},
		ratioUnit: "ratio", atLeastRatio: 1.0},
	{name: "push → ACK p99 at 5k events/s (ms), median of runs", pkg: "services/ingest", bench: "BenchmarkIngest", unit: "p99-ms@5k/s", atMost: 10},
	{name: "push → ACK p99 at 5k events/s after the first second (ms), median of runs", pkg: "services/ingest", bench: "BenchmarkIngest", unit: "p99-ms@5k/s-after-1s", atMost: 10},
	{name: "ingest peak RSS at max prefetch (MiB), largest run", pkg: "services/ingest", bench: "BenchmarkIngest", unit: "peak-RSS-MiB", peak: true, atMost: 64},
}

// httpCeiling is what the Energisme push cannot pass on this machine: the
// client's pushes alone into the emulator, as many in flight as the
// forwarder has, without Kafka.
var httpCeiling = &metric{name: "Energisme client alone into the emulator, the forwarder's default in flight", pkg: "pkg/sinksim", bench: "BenchmarkEnergismePush", unit: "uplinks/s"}

// Notes renders, after the table, the references that have no target of
// their own but say what bounds a figure: the Energisme push against its
// HTTP ceiling, and how busy the machine was during the 5k/s chain (the
// latency rows queue behind a busy CPU); and, from warmup (nil when there
// was none), the chain's unmeasured warm-up run. Empty when the runs
// measured none of them.
func Notes(res, warmup Results) string {
	var lines []string
	if ceiling, ok := res.Median(httpCeiling.pkg, httpCeiling.bench, httpCeiling.unit); ok && ceiling != 0 {
		line := fmt.Sprintf("- %s (%s %s): %s uplinks/s", httpCeiling.name, httpCeiling.pkg, httpCeiling.bench, num(ceiling))
		if ref, ok := res.Median(noopCopy.pkg, noopCopy.bench, noopCopy.unit); ok && ref != 0 {
			line += fmt.Sprintf(", %.2f× the %s", ceiling/ref, noopCopy.name)
		}
		if push, ok := res.Median("services/energisme-forwarder", "BenchmarkPushKafkaToEmulator", "uplinks/s"); ok {
			line += fmt.Sprintf("; the energisme-forwarder's push reaches %.2f× it", push/ceiling)
		}
		lines = append(lines, line)
	}
	// BenchmarkPushAtRoundTrip/rtt=<d>/concurrency=<n>, fewest in flight first.
	const wanBench = "BenchmarkPushAtRoundTrip/"
	names := res.Benchmarks("services/energisme-forwarder", wanBench)
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(inFlight(a), inFlight(b)) })
	var wan []string
	for _, name := range names {
		if v, ok := res.Median("services/energisme-forwarder", name, "uplinks/s"); ok {
			wan = append(wan, fmt.Sprintf("%s uplinks/s at %s", num(v), strings.ReplaceAll(strings.TrimPrefix(name, wanBench), "/", ", ")))
		}
	}
	if len(wan) > 0 {
		lines = append(lines, "- the Energisme push to an emulator answering late, as across a WAN (services/energisme-forwarder BenchmarkPushAtRoundTrip): "+strings.Join(wan, "; "))
	}
	if busy, ok := res.Median(chainPkg, chain5k, "machine-busy-%"); ok {
		line := fmt.Sprintf("- the whole machine (broker, simulator and emulators included) was %s%% busy while the 5k events/s chain pushed", num(busy))
		line += brokerShare(res)
		lines = append(lines, line)
	}
	if line, ok := hopNote(res); ok {
		lines = append(lines, line)
	}
	if line, ok := warmupNote(warmup); ok {
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return ""
	}
	return "\nReferences without a target:\n\n" + strings.Join(lines, "\n") + "\n"
}

// warmupNote is the line of the chain's warm-up run, the first load of a
// fresh broker, which the medians leave out.
func warmupNote(w Results) (string, bool) {
	p50, ok := w.Median(chainPkg, chain5k, "p50-ms")
	if !ok {
		return "", false
	}
	p99, _ := w.Median(chainPkg, chain5k, "p99-ms")
	cpu, _ := w.SumSuffix(chainPkg, chain5k, "-cpu-ms/1k-events")
	busy, _ := w.Median(chainPkg, chain5k, "machine-busy-%")
	return fmt.Sprintf("- the chain at 5k events/s in its warm-up run, left out of the medians (bench-results/warmup.txt): p50 %s ms, p99 %s ms, CPU per event %s µs over the four stages, machine %s%% busy",
		num(p50), num(p99), num(cpu), num(busy)) + brokerShare(w), true
}

// hopNote is the line on where the chain's time at 5k events/s goes, in
// medians of runs: each stage's share of the latency at p50 and how long
// the decoder's and the enos-forwarder's batches took to handle, and the
// enos-forwarder's measurement-point posts (from their /metrics).
func hopNote(res Results) (string, bool) {
	var parts []string
	for _, p := range []struct{ unit, text string }{
		{"ingest-p50-ms", "ingest %s ms"},
		{"decoder-p50-ms", "decoder %s ms"},
		{"forwarder-p50-ms", "enos-forwarder hop %s ms"},
	} {
		if v, ok := res.Median(chainPkg, chain5k, p.unit); ok {
			parts = append(parts, fmt.Sprintf(p.text, num(v)))
		}
	}
	var batches []string
	for _, p := range []struct{ unit, text string }{
		{"decoder-batch-mean-ms", "a decoder batch %s ms"},
		{"enos-forwarder-batch-mean-ms", "an enos-forwarder batch %s ms"},
		{"enos-post-mean-ms", "its measurement-point post %s ms"},
	} {
		if v, ok := res.Median(chainPkg, chain5k, p.unit); ok {
			batches = append(batches, fmt.Sprintf(p.text, num(v)))
		}
	}
	if len(parts) == 0 && len(batches) == 0 {
		return "", false
	}
	line := "- where the chain's time at 5k events/s goes"
	if len(parts) > 0 {
		line += ", at p50: " + strings.Join(parts, ", ")
	}
	if len(batches) > 0 {
		line += "; handled on average in: " + strings.Join(batches, ", ")
	}
	return line, true
}

// brokerShare says how much of the machine the broker took during the
// chain at 5k events/s, and its JIT compiler of that, when the benchmark
// could see the broker's process (KAFKA_BROKER_PID); empty otherwise.
func brokerShare(res Results) string {
	broker, ok := res.Median(chainPkg, chain5k, "broker-busy-%")
	if !ok {
		return ""
	}
	jit, _ := res.Median(chainPkg, chain5k, "broker-jit-%")
	return fmt.Sprintf(", the broker %s%% of the machine (its JIT compiler %s%%)", num(broker), num(jit))
}

// inFlight is the n of a benchmark named …/concurrency=n (0 without one).
func inFlight(name string) int {
	_, v, _ := strings.Cut(name, "concurrency=")
	n, _ := strconv.Atoi(v)
	return n
}

// Table renders the summary of res as one markdown table.
func Table(res Results) string {
	var b strings.Builder
	b.WriteString("| figure | value | reference (same run) | ratio | target | met |\n|---|---|---|---|---|---|\n")
	for _, f := range figures {
		value, ok := f.value(res)
		valueText, refText, ratioText, target, met := "not measured", "—", "—", "", false
		if ok {
			valueText = num(value)
		}
		if f.sumSuffix != "" {
			_, units := res.SumSuffix(f.pkg, f.bench, f.sumSuffix)
			progs := make([]string, len(units))
			for i, u := range units {
				progs[i] = strings.TrimSuffix(u, f.sumSuffix)
			}
			if len(progs) > 0 {
				valueText += " (" + strings.Join(progs, " + ") + ")"
			}
		}
		switch {
		case f.ref != nil:
			target = "≥ " + num(f.atLeastRatio) + "× " + f.ref.name
			if f.atMost > 0 {
				target = "≤ " + num(f.atMost)
			}
			ref, refOK := res.Median(f.ref.pkg, f.ref.bench, f.ref.unit)
			if refOK {
				refText = num(ref) + " (" + f.ref.name + ")"
			}
			ratio, ratioOK := 0.0, false
			if f.ratioUnit != "" {
				ratio, ratioOK = res.Median(f.pkg, f.bench, f.ratioUnit)
			} else if ok && refOK && ref != 0 {
				ratio, ratioOK = value/ref, true
			}
			if ratioOK {
				ratioText = strconv.FormatFloat(ratio, 'f', 2, 64)
			}
			if f.atMost > 0 {
				met = ok && value <= f.atMost
			} else {
				met = ratioOK && ratio >= f.atLeastRatio
			}
		default:
			target = "≤ " + num(f.atMost)
			met = ok && value <= f.atMost
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", f.name, valueText, refText, ratioText, target, yesNo(met))
	}
	return b.String()
}

func (f figure) value(res Results) (float64, bool) {
	switch {
	case f.sumSuffix != "":
		sum, units := res.SumSuffix(f.pkg, f.bench, f.sumSuffix)
		return sum, len(units) > 0
	case f.peak:
		v := res.Values(f.pkg, f.bench, f.unit)
		if len(v) == 0 {
			return 0, false
		}
		return slices.Max(v), true
	}
	return res.Median(f.pkg, f.bench, f.unit)
}

// num formats a figure: whole numbers for large ones, three significant
// digits for small ones.
func num(v float64) string {
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
