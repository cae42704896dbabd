package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// BenchmarkIngest measures, in one run on one broker: Kafka's own
// ProducerPerformance (acks=all, our record size, our compression), the
// ingest's throughput from snoti-sim at the highest prefetch, their ratio
// (target ≥ 0.7), push→ACK latency at a fixed 5k events/s (targets p50 ≤
// 5 ms, p99 ≤ 20 ms) and the ingest's peak RSS (target ≤ 128 MiB). The
// figures are printed and written to bench-results/ingest.md.
func BenchmarkIngest(b *testing.B) {
	if b.N > 1 {
		b.Skip("one measured run is enough; see the reported metrics")
	}
	const n = 200_000
	brokers := kafkatest.Brokers(b)

	// Our record size, from a real simulator push.
	size := recordSize(b)

	// (a) Kafka's own producer, same broker, same run.
	ppTopic := kafkatest.Topic(b, brokers, 3)
	ppRate := producerPerformance(b, brokers[0], ppTopic, n, size)

	// (b) snoti-sim → ingest → Kafka, highest prefetch, as fast as possible.
	h := newBenchHarness(b, brokers, snotisim.Fleet{Devices: 1000, MaxEvents: n, Seed: 1})
	proc := h.process(b, snoti.MaxPrefetch)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := h.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= n }); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	ingestRate := float64(n) / took.Seconds()
	rssThroughput := peakRSS(proc.Process.Pid)
	stopProcess(proc)

	// (c) push→ACK latency at a fixed 5k events/s for 10 s.
	const rate, secs = 5000, 10
	h2 := newBenchHarness(b, brokers, snotisim.Fleet{Devices: 1000, Rate: rate, MaxEvents: rate * secs, Seed: 2})
	proc2 := h2.process(b, 1000)
	if _, err := h2.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= rate*secs }); err != nil {
		b.Fatal(err)
	}
	rssLatency := peakRSS(proc2.Process.Pid)
	stopProcess(proc2)
	var lat []time.Duration
	for _, e := range h2.sim.Entries() {
		if !e.Acked.IsZero() && !e.FirstPush.IsZero() {
			lat = append(lat, e.Acked.Sub(e.FirstPush))
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}

	ratio := ingestRate / ppRate
	b.ReportMetric(ppRate, "kafka-producerperf-rec/s")
	b.ReportMetric(ingestRate, "ingest-events/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms@5k/s")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms@5k/s")
	b.ReportMetric(float64(pct(0.999).Microseconds())/1000, "p999-ms@5k/s")
	b.ReportMetric(float64(max(rssThroughput, rssLatency))/(1<<20), "peak-RSS-MiB")

	report := fmt.Sprintf(`# Ingest benchmark (%s, %d CPUs)

| measure | value | target |
|---|---|---|
| Kafka ProducerPerformance, acks=all, %d B records, snappy | %.0f records/s | reference |
| snoti-sim → ingest → Kafka, prefetch %d, %d events | %.0f events/s | |
| ratio ingest / ProducerPerformance | %.2f | ≥ 0.70 |
| push→ACK p50 at %d events/s | %s | ≤ 5 ms |
| push→ACK p99 at %d events/s | %s | ≤ 20 ms |
| push→ACK p99.9 at %d events/s | %s | |
| ingest peak RSS (VmHWM), max of both runs | %.1f MiB | ≤ 128 MiB |
`, time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), size, ppRate, snoti.MaxPrefetch, n, ingestRate, ratio,
		rate, pct(0.50), rate, pct(0.99), rate, pct(0.999), float64(max(rssThroughput, rssLatency))/(1<<20))
	fmt.Print("\n" + report)
	if dir := benchDir(); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "ingest.md"), []byte(report), 0o644)
	}
}

type benchHarness struct{ *harness }

func newBenchHarness(b *testing.B, brokers []string, fleet snotisim.Fleet) benchHarness {
	sim, err := snotisim.New(snotisim.Config{
		Addr:        "127.0.0.1:0",
		Enterprises: []snotisim.Enterprise{{ID: entID, Secret: entSecret}},
		Fleet:       fleet,
		Trace:       true, // sim_seq identifies each event end to end
		LedgerSize:  1 << 19,
		MaxBacklog:  1 << 20,
	}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close(context.Background()) })
	ca := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sim.CertPEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	codec, _ := records.NewCodec()
	h := &harness{connections: 1, sim: sim, caFile: ca, codec: codec,
		events: kafkatest.Topic(b, brokers, 6), invald: kafkatest.Topic(b, brokers, 1)}
	h.kc.Brokers = brokers
	return benchHarness{h}
}

func (h benchHarness) process(b *testing.B, prefetch int) *exec.Cmd {
	env := append(h.env(), fmt.Sprintf("SNOTI_PREFETCH=%d", prefetch), "INGEST_BATCH_SIZE=5000", "LOG_LEVEL=error")
	return testkit.Start(b, testkit.Build(b, "."), env)
}

func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_, _ = cmd.Process.Wait()
}

// recordSize is the encoded size of a typical device_status_raw record.
func recordSize(b *testing.B) int {
	codec, _ := records.NewCodec()
	raw := `{"cmd":"enterprise_event_push","delivery_id":123456,"event_type":"device_status_raw","product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","did":"simdev0000000000000001","mac":"a1b2c3d4e5f6","group_id":"","created_at":1700000000.123,"sim_seq":1,"data":{"raw":"AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA=="}}`
	e := &records.SnotiEvent{EventID: strings.Repeat("a", 64), EventType: "device_status_raw", ProductKey: "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b",
		DID: "simdev0000000000000001", MAC: "a1b2c3d4e5f6", Protocol: "v1", DeliveryID: "123456", Raw: make([]byte, 31), RawJSON: raw,
		CreatedAt: time.Now(), ReceivedAt: time.Now()}
	v, err := codec.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	return len(v)
}

var ppLine = regexp.MustCompile(`([0-9]+) records sent, ([0-9.]+) records/sec`)

// producerPerformance runs Kafka's own load generator with acks=all.
func producerPerformance(b *testing.B, broker, topic string, n, size int) float64 {
	script, err := filepath.Abs("../../tools/kafka/kafka.sh")
	if err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command(script, "class", "org.apache.kafka.tools.ProducerPerformance",
		"--topic", topic, "--num-records", strconv.Itoa(n), "--record-size", strconv.Itoa(size), "--throughput", "-1",
		"--producer-props", "bootstrap.servers="+broker, "acks=all", "compression.type=snappy").CombinedOutput()
	if err != nil {
		b.Fatalf("ProducerPerformance: %v\n%s", err, out)
	}
	m := ppLine.FindAllStringSubmatch(string(out), -1)
	if len(m) == 0 {
		b.Fatalf("ProducerPerformance printed no summary:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(m[len(m)-1][2], 64)
	return rate
}

// peakRSS reads VmHWM (peak resident set) of a live process, in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchDir is the git-ignored folder for results, at the repo root.
func benchDir() string {
	dir, err := filepath.Abs("../../bench-results")
	if err != nil || os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	return dir
}
