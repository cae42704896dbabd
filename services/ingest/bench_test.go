package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
// (issue 16's target ≥ 1.0), push→ACK latency at a fixed 5k events/s
// (target p99 ≤ 10 ms) with the ingest's CPU per event there, and its peak
// RSS (target ≤ 64 MiB at max prefetch). The figures are printed and
// written to bench-results/ingest.md.
//
// With BENCH_PROFILE_DIR set, the ingest process serves its profiles
// (HTTP_PPROF) and the benchmark saves into that folder a CPU profile of
// each phase (ingest-throughput.cpu.pprof, ingest-5k.cpu.pprof) and heap
// profiles taken halfway through that profile (….mid.heap.pprof) and at the
// end of each phase (….heap.pprof: live heap and allocations since the
// start), for `go tool pprof`.
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
	proc, prof := h.process(b, snoti.MaxPrefetch)
	start := time.Now()
	prof.startCPU(b, "ingest-throughput", 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := h.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= n }); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	ingestRate := float64(n) / took.Seconds()
	rssThroughput := peakRSS(proc.Process.Pid)
	prof.finish(b, "ingest-throughput")
	stopProcess(proc)

	// (c) push→ACK latency at a fixed 5k events/s for 10 s.
	const rate, secs = 5000, 10
	h2 := newBenchHarness(b, brokers, snotisim.Fleet{Devices: 1000, Rate: rate, MaxEvents: rate * secs, Seed: 2})
	proc2, prof2 := h2.process(b, 1000)
	prof2.startCPU(b, "ingest-5k", (secs-2)*time.Second)
	cpu0 := cpuSeconds(proc2.Process.Pid)
	if _, err := h2.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= rate*secs }); err != nil {
		b.Fatal(err)
	}
	cpuPerEvent := (cpuSeconds(proc2.Process.Pid) - cpu0) / (rate * secs) * 1e6
	rssLatency := peakRSS(proc2.Process.Pid)
	prof2.finish(b, "ingest-5k")
	stopProcess(proc2)
	// The steady state leaves out the first second: the ingest's start
	// (first metadata, connections) and the simulator's first burst.
	var lat, steady []time.Duration
	var first time.Time
	for _, e := range h2.sim.Entries() {
		if !e.FirstPush.IsZero() && (first.IsZero() || e.FirstPush.Before(first)) {
			first = e.FirstPush
		}
	}
	// The backlog: events the simulator published before its first push
	// (its fleet starts with it, the ingest logs in later). They arrive as
	// a burst of a whole prefetch at a time, each waiting for the writes
	// of the burst before it; fresh leaves them out.
	var backlog int
	var fresh []time.Duration
	for _, e := range h2.sim.Entries() {
		if e.Published.Before(first) {
			backlog++
		}
		if !e.Acked.IsZero() && !e.FirstPush.IsZero() {
			lat = append(lat, e.Acked.Sub(e.FirstPush))
			if e.FirstPush.Sub(first) >= time.Second {
				steady = append(steady, e.Acked.Sub(e.FirstPush))
			}
			if !e.Published.Before(first) {
				fresh = append(fresh, e.Acked.Sub(e.FirstPush))
			}
		}
	}
	slices.Sort(lat)
	slices.Sort(steady)
	slices.Sort(fresh)
	pctOf := func(lat []time.Duration, p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	pct := func(p float64) time.Duration { return pctOf(lat, p) }

	ratio := ingestRate / ppRate
	b.ReportMetric(ppRate, "kafka-producerperf-rec/s")
	b.ReportMetric(ingestRate, "ingest-events/s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms@5k/s")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms@5k/s")
	b.ReportMetric(float64(pct(0.999).Microseconds())/1000, "p999-ms@5k/s")
	b.ReportMetric(float64(pctOf(steady, 0.99).Microseconds())/1000, "p99-ms@5k/s-after-1s")
	b.ReportMetric(float64(pctOf(fresh, 0.99).Microseconds())/1000, "p99-ms@5k/s-after-backlog")
	b.ReportMetric(float64(backlog), "backlog-at-login@5k/s")
	b.ReportMetric(cpuPerEvent, "cpu-µs/event@5k/s")
	b.ReportMetric(float64(max(rssThroughput, rssLatency))/(1<<20), "peak-RSS-MiB")

	report := fmt.Sprintf(`# Ingest benchmark (%s, %d CPUs)

| measure | value | target |
|---|---|---|
| Kafka ProducerPerformance, acks=all, %d B records, snappy | %.0f records/s | reference |
| snoti-sim → ingest → Kafka, prefetch %d, %d events | %.0f events/s | |
| ratio ingest / ProducerPerformance | %.2f | ≥ 1.0 |
| push→ACK p50 at %d events/s | %s | |
| push→ACK p99 at %d events/s | %s | ≤ 10 ms |
| push→ACK p99.9 at %d events/s | %s | |
| push→ACK p99 at %d events/s, after the first second | %s | |
| push→ACK p99 at %d events/s, of the events published after the first push (not the %d of the start's backlog) | %s | |
| ingest CPU (user + system) per event at %d events/s | %.1f µs | |
| ingest peak RSS (VmHWM), max of both runs | %.1f MiB | ≤ 64 MiB |
`, time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), size, ppRate, snoti.MaxPrefetch, n, ingestRate, ratio,
		rate, pct(0.50), rate, pct(0.99), rate, pct(0.999), rate, pctOf(steady, 0.99), rate, backlog, pctOf(fresh, 0.99), rate, cpuPerEvent, float64(max(rssThroughput, rssLatency))/(1<<20))
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

// process starts the simulator (its fleet starts publishing then) and the
// built ingest, the one right after the other: the backlog the ingest
// meets at login is what SNoti publishes while the ingest starts, not what
// it published while the benchmark created topics. The profiler does
// nothing unless BENCH_PROFILE_DIR is set.
func (h benchHarness) process(b *testing.B, prefetch int) (*exec.Cmd, *profiler) {
	env := append(h.env(), fmt.Sprintf("SNOTI_PREFETCH=%d", prefetch), "INGEST_BATCH_SIZE=5000", "LOG_LEVEL=error")
	prof := &profiler{dir: os.Getenv("BENCH_PROFILE_DIR")}
	if prof.dir != "" {
		port, err := testkit.FreePort()
		if err != nil {
			b.Fatal(err)
		}
		prof.url = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port)
		env = append(env, "HTTP_PPROF=true", fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port))
	}
	bin := testkit.Build(b, ".")
	if err := h.sim.Start(); err != nil {
		b.Fatal(err)
	}
	return testkit.Start(b, bin, env), prof
}

// profiler saves the ingest process's profiles into dir (BENCH_PROFILE_DIR).
type profiler struct {
	dir, url string
	cpu      chan error // the CPU profile's fetch, once started
}

// startCPU fetches a CPU profile of the next d into name.cpu.pprof, in the
// background; finish waits for it.
func (p *profiler) startCPU(b *testing.B, name string, d time.Duration) {
	if p.dir == "" {
		return
	}
	// The process serves once it is up; the profile starts with the run.
	testkit.Eventually(b, 10*time.Second, "the ingest's profiling endpoint", func() bool {
		resp, err := http.Get(p.url)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	p.cpu = make(chan error, 2)
	go func() { p.cpu <- p.save(fmt.Sprintf("profile?seconds=%d", int(d.Seconds())), name+".cpu.pprof") }()
	go func() {
		time.Sleep(d / 2)
		p.cpu <- p.save("heap", name+".mid.heap.pprof")
	}()
}

// finish waits for the CPU profile and saves a heap profile.
func (p *profiler) finish(b *testing.B, name string) {
	if p.dir == "" {
		return
	}
	if err := p.save("heap", name+".heap.pprof"); err != nil {
		b.Error(err)
	}
	if p.cpu != nil {
		for range 2 {
			if err := <-p.cpu; err != nil {
				b.Error(err)
			}
		}
	}
}

func (p *profiler) save(query, file string) error {
	resp, err := http.Get(p.url + query)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %v", query, resp.StatusCode, err)
	}
	return os.WriteFile(filepath.Join(p.dir, file), body, 0o644)
}

// cpuSeconds is the CPU time (user + system) a live process has used, from
// /proc/PID/stat (utime and stime, fields 14 and 15, in USER_HZ = 100).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
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
