package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// BenchmarkChainLatency runs snoti-sim → ingest → decoder →
// enos-forwarder → EnOS emulator, with the energisme-forwarder's push to an
// Energisme emulator beside it on the same events topic: the four services
// as built programs on real Kafka, the simulator's fleet pushing 1000 or
// 5000 events/s from the ingest's first login (Fleet.StartOnLogin: no
// backlog built while the ingest started, so the load is the stated rate
// from the first push). It reports the latency from each event's first
// SNoti push to the first of its measurement points accepted by the EnOS
// emulator (status events only: the others carry no points), once every
// uplink is at Energisme too; events pushed before the first point reached
// EnOS are left out (the chain's warm-up: the ingest's first metadata and
// writes), and the -after-1s figures leave out the first second after it
// too. sim-queue-p99-ms is how long events waited in SNoti before their
// first push. One run of at least 5 s of events whatever b.N,
// so that the p99 stands on enough samples. Every process shares the
// machine with the broker: on a small machine the figures are CPU-bound,
// and the per-program CPU metrics (all four stages, per 1000 SNoti events)
// say where it goes; <program>-peak-rss-MiB is each one's VmHWM, and
// machine-busy-% how busy the whole machine (broker and simulators
// included) was while the fleet pushed.
//
// The consume runner ends a batch when it holds BatchSize messages, when
// no message arrived within a 1 ms linger, or BatchWait (20 ms) after its
// first, and commits in the background: under a steady stream each
// consuming stage adds a fetch, the linger and its own work, not
// BatchSize/rate nor a commit, as long as it keeps up: batches are handled
// one after another, so a stage whose batch takes longer than BatchSize/rate
// falls behind (why ENOS_BATCH_SIZE defaults to 1000, see its Config). The
// runs with DECODER_BATCH_SIZE=250 show whether the decoder's does.
// Target at 5000 events/s (issue 16): p50 ≤ 25 ms, p99 ≤ 100 ms.
func BenchmarkChainLatency(b *testing.B) {
	for _, run := range []struct{ rate, decoderBatch int }{{1000, 0}, {5000, 0}, {1000, 250}, {5000, 250}} {
		name := fmt.Sprintf("rate=%d/decoder_batch=default", run.rate)
		if run.decoderBatch > 0 {
			name = fmt.Sprintf("rate=%d/decoder_batch=%d", run.rate, run.decoderBatch)
		}
		b.Run(name, func(b *testing.B) { benchChain(b, run.rate, run.decoderBatch) })
	}
}

func benchChain(b *testing.B, rate, decoderBatch int) {
	n := max(b.N, 5*rate)
	c := newChain(b, snotisim.Fleet{Devices: 500, Rate: float64(rate), MaxEvents: uint64(n), Seed: 3, StartOnLogin: true})
	c.logLevel = "error"
	c.decoderBatch = decoderBatch
	c.withEnergisme, c.energismeDLQ = true, kafkatest.Topic(b, c.brokers, 1)
	c.fixedAddrs = true
	c.start(b)
	b.ResetTimer()
	cpu0, machine0 := c.cpuSeconds(), machineCPU(b)
	profiled := c.profileCPU(b, time.Duration(n/rate)*time.Second)
	// Read back only once SNoti has every ACK, to keep the test's own work
	// out of the measured window.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := c.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= uint64(n) }); err != nil {
		b.Fatalf("waiting for %d ACKs: %v", n, err)
	}
	// How busy the whole machine was while the fleet pushed: the broker,
	// the simulator and the emulators share the cores with the stages, and
	// a machine near 100% queues every stage's work.
	machine := machineCPU(b)
	b.ReportMetric(machine.busySince(machine0), "machine-busy-%")
	if machine.broker > 0 {
		// The broker's share, and its JIT compiler's: a fresh JVM's takes
		// a core for seconds when the chain first loads it.
		b.ReportMetric(machine.shareSince(machine0, machine.broker-machine0.broker), "broker-busy-%")
		b.ReportMetric(machine.shareSince(machine0, max(0, machine.brokerJIT-machine0.brokerJIT)), "broker-jit-%")
	}
	// The read-back below is the test's own work, not the stages': it waits
	// until they have drained what SNoti pushed, so it does not take the
	// cores from the last events' way to EnOS and Energisme.
	c.waitDrained(b, 5*time.Minute)
	events := c.readEvents(b, n, 5*time.Minute)
	x := c.expect(b, events)
	waitPoints(b, c.enos, x.points, 5*time.Minute)
	c.waitUplinks(b, uplinkKeys(events), 5*time.Minute)
	b.StopTimer()
	profiled()
	for name, sec := range c.cpuSeconds() {
		// CPU per 1000 events, to see which stage a small machine spends on.
		b.ReportMetric((sec-cpu0[name])/float64(n)*1e6, name+"-cpu-ms/1k-events")
	}
	for name, mib := range c.peakRSSMiB() {
		b.ReportMetric(mib, name+"-peak-rss-MiB")
	}
	c.reportBatchTimes(b)

	arrived := map[uint64]time.Time{} // seq → first point accepted
	var warm time.Time                // the first SNoti event's point at EnOS
	for _, p := range c.enos.Points() {
		seq, ok := x.pointSeq[point{p.ProductKey + "/" + p.DeviceKey, p.PointID, p.Time}]
		if !ok {
			continue
		}
		if at, seen := arrived[seq]; !seen || p.ReceivedAt.Before(at) {
			arrived[seq] = p.ReceivedAt
		}
		if warm.IsZero() || p.ReceivedAt.Before(warm) {
			warm = p.ReceivedAt
		}
	}
	// Events pushed before the whole chain had carried one through measure
	// the ingest's start (login, first metadata), not the steady state.
	var lat, queued []time.Duration
	// Each stage's share, from the Kafka timestamps (ms) of the event and
	// of its telemetry record: push → events written (ingest), → telemetry
	// written (decoder), → point at EnOS (forwarder).
	decoded := c.telemetryWritten(b, events)
	var ingestLat, decoderLat, forwarderLat []time.Duration
	// steady leaves out the first second after warm-up too: the stages'
	// own start (connections, first fetches) settles then.
	var steady []time.Duration
	for _, e := range c.sim.Entries() {
		at, ok := arrived[e.Seq]
		if !ok || e.FirstPush.IsZero() || e.FirstPush.Before(warm) {
			continue
		}
		lat = append(lat, at.Sub(e.FirstPush))
		queued = append(queued, e.FirstPush.Sub(e.Published))
		if !e.FirstPush.Before(warm.Add(time.Second)) {
			steady = append(steady, at.Sub(e.FirstPush))
		}
		ev := events[e.Seq]
		if tw, ok := decoded[ev.ev.EventID]; ok && !ev.written.IsZero() {
			ingestLat = append(ingestLat, ev.written.Sub(e.FirstPush))
			decoderLat = append(decoderLat, tw.Sub(ev.written))
			forwarderLat = append(forwarderLat, at.Sub(tw))
		}
	}
	if len(lat) < len(arrived)/2 {
		b.Fatalf("latency of %d events only, %d arrived", len(lat), len(arrived))
	}
	q := func(d []time.Duration, f float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(f*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(lat, 0.50), "p50-ms")
	b.ReportMetric(q(lat, 0.99), "p99-ms")
	b.ReportMetric(q(lat, 1), "max-ms")
	b.ReportMetric(q(queued, 0.99), "sim-queue-p99-ms")
	if len(steady) > 0 {
		b.ReportMetric(q(steady, 0.50), "p50-ms-after-1s")
		b.ReportMetric(q(steady, 0.99), "p99-ms-after-1s")
	}
	if len(ingestLat) > 0 {
		for _, s := range []struct {
			name string
			d    []time.Duration
		}{{"ingest", ingestLat}, {"decoder", decoderLat}, {"forwarder", forwarderLat}} {
			b.ReportMetric(q(s.d, 0.50), s.name+"-p50-ms")
			b.ReportMetric(q(s.d, 0.99), s.name+"-p99-ms")
		}
	}
	b.ReportMetric(float64(len(lat)), "events-measured")
}

// waitDrained waits until every consumer group of the chain has no lag
// left (consume.GroupLag: committed up to the log end on every partition):
// the decoder first, whose telemetry the enos-forwarder reads, then both
// forwarders.
func (c *chain) waitDrained(b *testing.B, timeout time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	admin := &kafka.Client{Addr: kafka.TCP(c.brokers...)}
	partitions := make([]int, chainPartitions)
	for i := range partitions {
		partitions[i] = i
	}
	groups := [][2]string{{"decoder-" + c.suffix, c.events}, {"enos-" + c.suffix, c.telemetry}}
	if c.withEnergisme {
		groups = append(groups, [2]string{"energisme-" + c.suffix, c.events})
	}
	for _, g := range groups {
		group, topic := g[0], g[1]
		var left int64
		var lastErr error
		testkit.Eventually(b, timeout, "group "+group+" drained", func() bool {
			lags, err := consume.GroupLag(ctx, admin, group, map[string][]int{topic: partitions})
			left, lastErr = 0, err
			for _, l := range lags {
				left += l.Lag
			}
			if err == nil && left == 0 {
				return true
			}
			if ctx.Err() != nil {
				b.Fatalf("group %s not drained within %v: lag %d, last error %v", group, timeout, left, lastErr)
			}
			return false
		})
	}
}

// chainProfileDir names the variable that, set to a folder, makes the
// chain benchmark take a CPU profile of every program (ingest, decoder,
// enos-forwarder, energisme-forwarder) over the pushes, written there as
// <program>.pprof, and of its own process (the simulator and the
// emulators) as harness.pprof (go tool pprof -top <file>).
const chainProfileDir = "CHAIN_CPUPROFILE_DIR"

// profileCPU starts, when chainProfileDir is set, a CPU profile of d of
// every program through its /debug/pprof/profile; the returned function
// waits for them and writes them.
func (c *chain) profileCPU(b *testing.B, d time.Duration) (wait func()) {
	dir := os.Getenv(chainProfileDir)
	if dir == "" {
		return func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := make(chan error, len(c.httpAddrs))
	for name, addr := range c.httpAddrs {
		go func() {
			errs <- func() error {
				// The ingest has only just been started.
				for deadline := time.Now().Add(30 * time.Second); ; {
					resp, err := http.Get("http://" + addr + "/healthz")
					if err == nil {
						resp.Body.Close()
						break
					}
					if time.Now().After(deadline) {
						return err
					}
					time.Sleep(10 * time.Millisecond) // polling for the listener, with a deadline
				}
				resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds()))))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("%s profile: %s", name, resp.Status)
				}
				f, err := os.Create(filepath.Join(dir, name+".pprof"))
				if err != nil {
					return err
				}
				if _, err := io.Copy(f, resp.Body); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			}()
		}()
	}
	n := len(c.httpAddrs)
	// And the benchmark's own process over the same time: the simulator
	// and the emulators share the cores with the stages.
	own, err := os.Create(filepath.Join(dir, "harness.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(own); err != nil {
		b.Fatalf("CPU profile of the benchmark (not with -cpuprofile): %v", err)
	}
	stopOwn := time.AfterFunc(d, pprof.StopCPUProfile)
	return func() {
		for range n {
			if err := <-errs; err != nil {
				b.Errorf("CPU profile: %v", err)
			}
		}
		if stopOwn.Stop() {
			pprof.StopCPUProfile()
		}
		if err := own.Close(); err != nil {
			b.Error(err)
		}
	}
}

// peakRSSMiB returns the peak resident set size (VmHWM) of each running
// program so far, from /proc (Linux); absent where it cannot be read.
func (c *chain) peakRSSMiB() map[string]float64 {
	out := map[string]float64{}
	c.mu.Lock()
	pids := maps.Clone(c.pids)
	c.mu.Unlock()
	for name, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64); err == nil {
					out[name] = kb / 1024
				}
			}
		}
	}
	return out
}

// cpuTicks is the machine's CPU time (/proc/stat's first line, in ticks):
// all of it and the idle part (idle and iowait); and, when the broker is
// a local process whose pid KAFKA_BROKER_PID names (kafka.sh with-broker,
// as make bench runs it), the broker's and its JIT compiler threads'.
type cpuTicks struct{ total, idle, broker, brokerJIT float64 }

func machineCPU(b *testing.B) cpuTicks {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	var t cpuTicks
	for i, f := range strings.Fields(line)[1:] { // user nice system idle iowait irq softirq steal …
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			b.Fatalf("/proc/stat %q: %v", line, err)
		}
		if i >= 8 { // guest time is counted in user already
			break
		}
		t.total += v
		if i == 3 || i == 4 {
			t.idle += v
		}
	}
	if pid := os.Getenv("KAFKA_BROKER_PID"); pid != "" {
		// The process's figure counts its ended threads too; a thread's
		// does not outlive it, so the compilers' is a lower bound (HotSpot
		// starts and stops compiler threads as the queue of work changes).
		if _, sec, err := procCPU("/proc/" + pid + "/stat"); err == nil {
			t.broker = sec * 100
		}
		threads, _ := filepath.Glob("/proc/" + pid + "/task/*/stat")
		for _, th := range threads {
			// HotSpot's "C1 CompilerThread0", "C2 CompilerThread1", … (the
			// kernel keeps 15 characters); a thread that ended meanwhile
			// fails to read and is left out.
			if name, sec, err := procCPU(th); err == nil && strings.Contains(name, "CompilerThre") {
				t.brokerJIT += sec * 100
			}
		}
	}
	return t
}

// busySince is the share of the machine's CPU time that was not idle
// since then, in percent.
func (t cpuTicks) busySince(then cpuTicks) float64 {
	return t.shareSince(then, (t.total-then.total)-(t.idle-then.idle))
}

// shareSince is ticks' share of the machine's CPU time since then, in
// percent.
func (t cpuTicks) shareSince(then cpuTicks, ticks float64) float64 {
	total := t.total - then.total
	if total <= 0 {
		return 0
	}
	return 100 * ticks / total
}

// freeAddr returns a local address nothing listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// telemetryWritten reads the telemetry topic and returns, per event id of
// events, the Kafka timestamp of its first telemetry record (when the
// decoder's writer sent it). Events without telemetry are absent; it stops
// reading once every event has one or after a few idle seconds.
func (c *chain) telemetryWritten(b *testing.B, events map[uint64]chainEvent) map[string]time.Time {
	b.Helper()
	want := make(map[string]bool, len(events))
	for _, e := range events {
		want[e.ev.EventID] = true
	}
	r := kafkatest.NewReader(b, c.brokers, c.telemetry)
	out := make(map[string]time.Time, len(events))
	for len(out) < len(want) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		m, err := r.FetchMessage(ctx)
		cancel()
		if err != nil {
			break // idle: the rest carried no telemetry
		}
		for _, h := range m.Headers {
			if h.Key == "event_id" && want[string(h.Value)] {
				if _, seen := out[string(h.Value)]; !seen {
					out[string(h.Value)] = m.Time
				}
			}
		}
	}
	return out
}

// reportBatchTimes reports, from the programs' /metrics, how long the
// decoder's and the enos-forwarder's batches took on average
// (snotibridge_consumer_batch_seconds: handling, not collecting) and the
// enos-forwarder's measurement-point posts (enos_forwarder_post_seconds):
// a stage handles its batches one after another, so a batch that takes
// longer than its collection is time the next one's events wait.
func (c *chain) reportBatchTimes(b *testing.B) {
	c.mu.Lock()
	addrs := maps.Clone(c.httpAddrs)
	c.mu.Unlock()
	for _, m := range []struct{ program, family, label, value, unit string }{
		{"decoder", "snotibridge_consumer_batch_seconds", "", "", "decoder-batch-mean-ms"},
		{"enos-forwarder", "snotibridge_consumer_batch_seconds", "", "", "enos-forwarder-batch-mean-ms"},
		{"enos-forwarder", "enos_forwarder_post_seconds", "kind", "measurepoint", "enos-post-mean-ms"},
	} {
		fams := scrape(b, addrs[m.program])
		sum, count := 0.0, uint64(0)
		for _, s := range fams[m.family].GetMetric() {
			if m.label != "" && !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == m.label && l.GetValue() == m.value }) {
				continue
			}
			sum, count = sum+s.GetHistogram().GetSampleSum(), count+s.GetHistogram().GetSampleCount()
		}
		if count == 0 {
			b.Fatalf("%s: no %s samples in its /metrics", m.program, m.family)
		}
		b.ReportMetric(1000*sum/float64(count), m.unit)
	}
}

// scrape reads the metric families a program serves at addr/metrics.
func scrape(b *testing.B, addr string) map[string]*dto.MetricFamily {
	b.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		b.Fatalf("reading %s/metrics: %v", addr, err)
	}
	return fams
}
