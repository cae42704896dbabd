package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/ingest"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

const (
	entID     = "ent-1"
	entSecret = "s3cret"
	prefetch  = 64
)

// harness is one simulator and one pair of topics.
type harness struct {
	v2             bool // a v2 product login (newHarnessV2) instead of the v1 enterprise login
	connections    int
	prefetch       int
	sim            *snotisim.Server
	kc             kafkaconf.Config
	events, invald string
	caFile         string
	codec          *records.Codec
}

// The v2 product of newHarnessV2.
const (
	v2Product = "sim"
	v2AuthID  = "sim-auth"
	v2Secret  = "sim-auth-secret"
)

// newHarnessV2 is newHarness for a v2 product login subscribed to every
// event type.
func newHarnessV2(t *testing.T, brokers []string) *harness {
	h := newHarnessWith(t, brokers, snotisim.Fleet{}, []snotisim.Product{{ProductKey: v2Product, AuthID: v2AuthID, AuthSecret: v2Secret, Subkeys: []string{"main"}}})
	h.v2 = true
	return h
}

func newHarness(t *testing.T, brokers []string, fleet snotisim.Fleet) *harness {
	return newHarnessWith(t, brokers, fleet, nil)
}

func newHarnessWith(t *testing.T, brokers []string, fleet snotisim.Fleet, products []snotisim.Product) *harness {
	t.Helper()
	sim, ca := simtest.Start(t, snotisim.Config{
		Addr:        "127.0.0.1:0",
		Products:    products,
		Enterprises: []snotisim.Enterprise{{ID: entID, Secret: entSecret}},
		DeliveryIDs: snotisim.IDMixed,
		Fleet:       fleet,
		Trace:       true, // sim_seq identifies each event end to end
	})
	codec, _ := records.NewCodec()
	return &harness{
		connections: 2, prefetch: prefetch, sim: sim, kc: kafkaconf.Config{Brokers: brokers},
		events: kafkatest.Topic(t, brokers, 3), invald: kafkatest.Topic(t, brokers, 1),
		caFile: ca, codec: codec,
	}
}

func (h *harness) config() Config {
	cfg := Config{
		Base: service.Base{Kafka: h.kc, ShutdownTimeout: 20 * time.Second},
		Config: snoti.Config{
			Addr: h.sim.Addr(), Protocol: snoti.ProtocolV1, EnterpriseID: entID, EnterpriseSecret: entSecret,
			Prefetch: h.prefetch, CAFile: h.caFile, BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
		},
		Connections: h.connections, TopicEvents: h.events, TopicInvalid: h.invald, BatchSize: 500, RetryBackoffMax: 500 * time.Millisecond,
	}
	if h.v2 {
		cfg.Protocol, cfg.EnterpriseID, cfg.EnterpriseSecret = snoti.ProtocolV2, "", ""
		cfg.Products = []snoti.Product{{ProductKey: v2Product, AuthID: v2AuthID, AuthSecret: v2Secret, Subkey: "main", Events: snoti.Subscriptions()}}
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level, cfg.Log.Format = "warn", "json"
	return cfg
}

func (h *harness) env() []string {
	cfg := h.config()
	return append(os.Environ(),
		"KAFKA_BROKERS="+h.kc.Brokers[0], "SNOTI_ADDR="+cfg.Addr, "SNOTI_PROTOCOL=v1",
		"SNOTI_ENTERPRISE_ID="+entID, "SNOTI_ENTERPRISE_SECRET="+entSecret, "SNOTI_CA_FILE="+h.caFile,
		fmt.Sprintf("SNOTI_PREFETCH=%d", h.prefetch), fmt.Sprintf("SNOTI_CONNECTIONS=%d", h.connections), "SNOTI_BACKOFF_MIN=50ms", "SNOTI_BACKOFF_MAX=500ms",
		"TOPIC_EVENTS="+h.events, "TOPIC_INVALID="+h.invald, "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=10s",
	)
}

// startInProcess runs the ingest until the returned stop is called.
func (h *harness) startInProcess(t *testing.T, opts ...option) (stop func()) {
	t.Helper()
	cfg, log := h.config(), zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	return testkit.RunInProcess(t, "ingest", func(ctx context.Context) error { return run(ctx, cfg, log, opts...) })
}

func (h *harness) waitAcked(t *testing.T, n uint64, timeout time.Duration) snotisim.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sum, err := h.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= n })
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// topicSeqs reads the events topic until every seq in want is there and
// returns how often each seq was seen. With checkOrder it also asserts that
// each device's events are in the topic in the order they were pushed,
// which holds for one connection without redeliveries (across connections,
// or after a redelivery, SNoti itself defines no order).
func (h *harness) topicSeqs(t *testing.T, want map[uint64]bool, timeout time.Duration, checkOrder bool) map[uint64]int {
	t.Helper()
	r := kafkatest.NewReader(t, h.kc.Brokers, h.events)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := map[uint64]int{}
	lastByDID := map[string]uint64{}
	missing := len(want)
	for missing > 0 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading back %s: %d of %d events still missing: %v", h.events, missing, len(want), err)
		}
		var e records.SnotiEvent
		if err := h.codec.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		seq := simSeq(t, e.RawJSON)
		if string(m.Key) != e.DID {
			t.Errorf("seq %d: key %q, want did %q", seq, m.Key, e.DID)
		}
		if seen[seq] == 0 {
			if last, ok := lastByDID[e.DID]; checkOrder && ok && seq < last {
				t.Errorf("device %s: seq %d after %d", e.DID, seq, last)
			}
			lastByDID[e.DID] = max(lastByDID[e.DID], seq)
			if want[seq] {
				missing--
			}
		}
		seen[seq]++
	}
	return seen
}

func simSeq(t *testing.T, raw string) uint64 {
	var v struct {
		Seq uint64 `json:"sim_seq"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Seq == 0 {
		t.Fatalf("raw_json without sim_seq: %.200s (%v)", raw, err)
	}
	return v.Seq
}

func allSeqs(n uint64) map[uint64]bool {
	m := make(map[uint64]bool, n)
	for i := uint64(1); i <= n; i++ {
		m[i] = true
	}
	return m
}

// durableAt wraps the Kafka writer and notes when each event's write
// returned successfully, before the pipeline may ACK it.
type durableAt struct {
	inner ingest.Writer
	codec *records.Codec
	mu    sync.Mutex
	at    map[uint64]time.Time
}

func (d *durableAt) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	err := d.inner.WriteMessages(ctx, msgs...)
	now := time.Now()
	werrs, _ := err.(kafka.WriteErrors)
	if err != nil && werrs == nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, m := range msgs {
		if werrs != nil && werrs[i] != nil || records.Header(m, "event_type") == "dead_letter" {
			continue
		}
		var e records.SnotiEvent
		if d.codec.Unmarshal(m.Value, &e) == nil {
			var v struct {
				Seq uint64 `json:"sim_seq"`
			}
			_ = json.Unmarshal([]byte(e.RawJSON), &v)
			if _, ok := d.at[v.Seq]; !ok {
				d.at[v.Seq] = now
			}
		}
	}
	return err
}

func TestIngestAcksOnlyWhatKafkaHolds(t *testing.T) {
	const n = 3000
	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{Devices: 40, Rate: 3000, MaxEvents: n, Seed: 7})
	h.connections = 1 // one connection: pushes arrive in seq order, so the topic must keep it per device
	rec := &durableAt{codec: h.codec, at: map[uint64]time.Time{}}
	stop := h.startInProcess(t, func(o *options) {
		o.wrapWriter = func(w ingest.Writer) ingest.Writer { rec.inner = w; return rec }
	})
	sum := h.waitAcked(t, n, 2*time.Minute)
	stop()

	seen := h.topicSeqs(t, allSeqs(n), time.Minute, sum.Redeliveries == 0)
	if sum.UnknownAcks != 0 || sum.StaleAcks != 0 {
		t.Errorf("%d repeated and %d stale ACKs", sum.UnknownAcks, sum.StaleAcks)
	}
	// Every ACK the simulator received came after its record was durable.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	acked := 0
	for _, e := range h.sim.Entries() {
		if e.Acked.IsZero() {
			continue
		}
		acked++
		at, ok := rec.at[e.Seq]
		if !ok {
			t.Errorf("seq %d ACKed but never acknowledged by Kafka", e.Seq)
		} else if e.Acked.Before(at) {
			t.Errorf("seq %d ACKed at %s, before Kafka acknowledged it at %s", e.Seq, e.Acked.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		}
	}
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	t.Logf("%d events pushed, %d ACKed, %d in Kafka, %d duplicates", n, acked, len(seen), dups)
}

func TestIngestQuarantinesMalformedAndKeepsUnknownTypes(t *testing.T) {
	const n = 600
	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{Devices: 10, Rate: 2000, MaxEvents: n, Seed: 3})
	if err := h.sim.SetFaults(snotisim.Faults{MalformedEvery: 100, OverlongEvery: 250}); err != nil {
		t.Fatal(err)
	}
	unknownSeq, err := h.sim.Publish(snotisim.Event{ProductKey: "sim", EventType: "brand_new_event", DID: "dev-x", Fields: map[string]any{"data": map[string]any{"x": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	h.startInProcess(t)
	sum := h.waitAcked(t, n+1, 2*time.Minute)
	if sum.Injected == 0 {
		t.Fatal("simulator injected no malformed line")
	}
	want := allSeqs(n)
	want[unknownSeq] = true
	h.topicSeqs(t, want, time.Minute, false)

	// Each malformed line is in the invalid topic with its bytes and reason.
	msgs := kafkatest.ReadN(t, h.kc.Brokers, h.invald, int(sum.Injected), time.Minute)
	reasons := map[string]int{}
	for _, m := range msgs {
		var dl records.DeadLetter
		if err := h.codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		if len(dl.Value) == 0 || dl.Stage != "ingest" {
			t.Errorf("invalid-line record without bytes or stage: %+v", dl)
		}
		reasons[dl.Reason]++
	}
	if reasons[snoti.InvalidJSON] == 0 || reasons[snoti.InvalidNoDeliveryID] == 0 {
		t.Errorf("reasons %v: want both %s and %s", reasons, snoti.InvalidJSON, snoti.InvalidNoDeliveryID)
	}
}

func TestIngestSurvivesBrokerKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills its own broker")
	}
	broker := kafkatest.StartBroker(t)
	const n = 6000
	h := newHarness(t, []string{broker.Addr()}, snotisim.Fleet{Devices: 50, Rate: 1500, MaxEvents: n, Seed: 11})
	var m *ingest.Metrics
	var ready = make(chan struct{})
	h.startInProcess(t, func(o *options) { o.metrics = func(mm *ingest.Metrics) { m = mm; close(ready) } })
	<-ready
	h.waitAcked(t, n/4, time.Minute)

	broker.Kill()
	// Once writes fail, nothing more is ACKed: SNoti keeps the rest.
	testkit.Eventually(t, time.Minute, "failed Kafka writes", func() bool { return testutil.ToFloat64(m.WriteErrors) >= 1 })
	frozen := h.sim.Summary().Acks
	testkit.Eventually(t, time.Minute, "more failed Kafka writes", func() bool { return testutil.ToFloat64(m.WriteErrors) >= 3 })
	if got := h.sim.Summary().Acks; got != frozen {
		t.Fatalf("ACKs went from %d to %d while Kafka was down", frozen, got)
	}
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	sum := h.waitAcked(t, n, 3*time.Minute)
	seen := h.topicSeqs(t, allSeqs(n), 2*time.Minute, false)
	t.Logf("ACKs frozen at %d of %d during the outage; after restart %d ACKed, %d distinct in Kafka", frozen, n, sum.Acks, len(seen))
}

func (h *harness) startProcess(t *testing.T) *exec.Cmd {
	t.Helper()
	return testkit.Start(t, testkit.Build(t, "."), h.env())
}

func TestIngestKilled(t *testing.T) {
	const n = 5000
	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{Devices: 50, Rate: 2500, MaxEvents: n, Seed: 5})
	first := h.startProcess(t)
	h.waitAcked(t, n/3, time.Minute)
	_ = first.Process.Signal(syscall.SIGKILL)
	_, _ = first.Process.Wait()

	h.startProcess(t)
	sum := h.waitAcked(t, n, 2*time.Minute)
	seen := h.topicSeqs(t, allSeqs(n), 2*time.Minute, false)
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	// At most what the killed process held un-ACKed can be written twice.
	if limit := prefetch * 2; dups > limit {
		t.Errorf("%d duplicates after kill -9, want at most prefetch × connections = %d", dups, limit)
	}
	t.Logf("kill -9 mid-stream: %d events, %d ACKed, 0 lost, %d duplicates (bound %d)", n, sum.Acks, dups, prefetch*2)
}

func TestIngestSIGTERM(t *testing.T) {
	const n = 5000
	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{Devices: 50, Rate: 2500, MaxEvents: n, Seed: 9})
	first := h.startProcess(t)
	h.waitAcked(t, n/3, time.Minute)
	start := time.Now()
	_ = first.Process.Signal(syscall.SIGTERM)
	state, _ := first.Process.Wait()
	if code := state.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("shutdown took %s, want within SHUTDOWN_TIMEOUT (10s)", took)
	}
	stopped := time.Since(start)

	h.startProcess(t)
	h.waitAcked(t, n, 2*time.Minute)
	seen := h.topicSeqs(t, allSeqs(n), 2*time.Minute, false)
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	t.Logf("SIGTERM mid-stream: exit 0 in %s, %d events, 0 lost, %d duplicates", stopped.Round(time.Millisecond), n, dups)
}

func TestInvalidConfigExitsNamingTheVariable(t *testing.T) {
	cmd := exec.Command(testkit.Build(t, "."))
	cmd.Env = append(os.Environ(), "SNOTI_ADDR=snoti.example:2017", "SNOTI_PROTOCOL=v1", "SNOTI_ENTERPRISE_ID=e",
		"SNOTI_ENTERPRISE_SECRET=s", "SNOTI_PREFETCH=0", "KAFKA_BROKERS=nohostport", "SNOTI_HEARTBEAT=soon")
	out, err := cmd.CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want code 2; output:\n%s", err, out)
	}
	for _, want := range []string{"SNOTI_HEARTBEAT", "invalid configuration"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not mention %s:\n%s", want, out)
		}
	}
	// Parse errors come first; once they are fixed, every semantic problem is listed at once.
	cmd = exec.Command(testkit.Build(t, "."))
	cmd.Env = append(os.Environ(), "SNOTI_ADDR=snoti.example:2017", "SNOTI_PROTOCOL=v1", "SNOTI_ENTERPRISE_ID=e",
		"SNOTI_ENTERPRISE_SECRET=s", "SNOTI_PREFETCH=0", "KAFKA_BROKERS=nohostport")
	out, _ = cmd.CombinedOutput()
	for _, want := range []string{"SNOTI_PREFETCH", "KAFKA_BROKERS"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not mention %s:\n%s", want, out)
		}
	}
}
