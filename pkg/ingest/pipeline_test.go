package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/ingest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

const entID, entSecret = "ent", "secret"

// source is a snoti.Client logged in to a simulator publishing fleet.
func source(t *testing.T, fleet snotisim.Fleet) (*snotisim.Server, *snoti.Client) {
	t.Helper()
	sim, ca := simtest.Start(t, snotisim.Config{
		Addr: "127.0.0.1:0", Enterprises: []snotisim.Enterprise{{ID: entID, Secret: entSecret}},
		DeliveryIDs: snotisim.IDMixed, Fleet: fleet, Trace: true,
	})
	c, err := snoti.New(snoti.Config{
		Addr: sim.Addr(), Protocol: snoti.ProtocolV1, EnterpriseID: entID, EnterpriseSecret: entSecret,
		Prefetch: 100, CAFile: ca, BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// fakeWriter is a Writer standing in for Kafka. It refuses the first
// failCalls writes whole, then refuses every other record of the next
// write (a kafka.WriteErrors: the first, third, …), then acknowledges everything, noting when
// each event's record (by sim_seq) was first acknowledged.
type fakeWriter struct {
	codec *records.Codec

	mu        sync.Mutex
	failCalls int
	partial   bool
	delay     time.Duration // how long each write takes, as a broker's round trip would
	calls     int
	durable   map[uint64]time.Time
	order     []uint64 // sim_seq of each record, in the order first acknowledged
}

func (w *fakeWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.delay > 0 {
		time.Sleep(w.delay) // the write's own duration, not a wait in the test
	}
	if w.failCalls > 0 {
		w.failCalls--
		return kafka.NotEnoughReplicas
	}
	var werrs kafka.WriteErrors
	if w.partial {
		w.partial = false
		werrs = make(kafka.WriteErrors, len(msgs))
		for i := range werrs {
			if i%2 == 0 { // the first always, so a write of one record fails too
				werrs[i] = kafka.LeaderNotAvailable
			}
		}
	}
	now := time.Now()
	for i, m := range msgs {
		if werrs != nil && werrs[i] != nil {
			continue
		}
		var e records.SnotiEvent
		if err := w.codec.Unmarshal(m.Value, &e); err != nil {
			continue
		}
		var v struct {
			Seq uint64 `json:"sim_seq"`
		}
		_ = json.Unmarshal([]byte(e.RawJSON), &v)
		if _, ok := w.durable[v.Seq]; !ok {
			w.durable[v.Seq] = now
			w.order = append(w.order, v.Seq)
		}
	}
	if werrs != nil {
		return werrs
	}
	return nil
}

func (w *fakeWriter) callCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

func config() ingest.Config {
	return ingest.Config{
		TopicEvents: "events", TopicInvalid: "invalid", Protocol: snoti.ProtocolV1,
		BatchSize: 50, MaxUnacked: 100, RetryBackoffMax: 200 * time.Millisecond, DrainTimeout: 5 * time.Second,
	}
}

func runPipeline(t *testing.T, p *ingest.Pipeline, c *snoti.Client) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, c) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				err = errors.New("Run did not return within a minute of its ctx ending")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// The core contract: never ACK what Kafka did not acknowledge; ACK every
// push Kafka did, through whole-write and per-record refusals.
func TestPipelineAcksOnlyWhatTheWriterAcknowledged(t *testing.T) {
	const n = 400
	sim, c := source(t, snotisim.Fleet{Devices: 8, Rate: 2000, MaxEvents: n, Seed: 5})
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWriter{codec: codec, failCalls: 3, partial: true, durable: map[uint64]time.Time{}}
	m, err := ingest.NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ingest.New(config(), w, codec, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), m)
	if err != nil {
		t.Fatal(err)
	}
	if p.Ready(context.Background()) == nil {
		t.Error("ready before any write")
	}
	stop := runPipeline(t, p, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= n })
	if err != nil {
		t.Fatalf("ACKs: %v (%+v)", err, sim.Summary())
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.UnknownAcks != 0 || sum.StaleAcks != 0 {
		t.Errorf("%d repeated and %d stale ACKs", sum.UnknownAcks, sum.StaleAcks)
	}
	if got := testutil.ToFloat64(m.WriteErrors); got != 4 {
		t.Errorf("ingest_write_errors_total = %v, want 4 (3 refused writes, 1 partly refused)", got)
	}
	if got := testutil.ToFloat64(m.Acks); got != n {
		t.Errorf("ingest_acks_total = %v, want %d", got, n)
	}
	if got := testutil.ToFloat64(m.InFlight); got != 0 {
		t.Errorf("ingest_in_flight_deliveries = %v, want 0", got)
	}
	if err := p.Ready(context.Background()); err != nil {
		t.Errorf("not ready after successful writes: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	acked := 0
	for _, e := range sim.Entries() {
		if e.Acked.IsZero() {
			continue
		}
		acked++
		at, ok := w.durable[e.Seq]
		switch {
		case !ok:
			t.Errorf("seq %d ACKed but never acknowledged by the writer", e.Seq)
		case e.Acked.Before(at):
			t.Errorf("seq %d ACKed at %s, before the writer acknowledged it at %s", e.Seq, e.Acked.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		}
	}
	if acked != n {
		t.Errorf("%d entries ACKed, want %d", acked, n)
	}
}

// While writes take a broker's round trip and pushes keep coming, the
// records reach Kafka in the order of the pushes, each once, and a
// pipeline stopped in the middle of the stream has ACKed only pushes whose
// record was acknowledged.
func TestPipelineWritesInPushOrderAndStopsMidStream(t *testing.T) {
	const n = 3000
	sim, c := source(t, snotisim.Fleet{Devices: 16, Rate: 20000, MaxEvents: n, Seed: 7})
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWriter{codec: codec, delay: 2 * time.Millisecond, durable: map[uint64]time.Time{}}
	p, err := ingest.New(config(), w, codec, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := runPipeline(t, p, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= n/2 }); err != nil {
		t.Fatalf("ACKs: %v (%+v)", err, sim.Summary())
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := 1; i < len(w.order); i++ {
		if w.order[i] <= w.order[i-1] {
			t.Fatalf("record of seq %d written after seq %d's (out of push order)", w.order[i], w.order[i-1])
		}
	}
	acked := 0
	for _, e := range sim.Entries() {
		if e.Acked.IsZero() {
			continue
		}
		acked++
		if at, ok := w.durable[e.Seq]; !ok || e.Acked.Before(at) {
			t.Errorf("seq %d ACKed at %s, its record acknowledged at %s (%v)", e.Seq, e.Acked.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), ok)
		}
	}
	if acked < n/2 || acked > len(w.order) {
		t.Errorf("%d pushes ACKed, %d records written: want at least %d ACKed, none beyond the written", acked, len(w.order), n/2)
	}
}

// A pipeline whose writes all fail ACKs nothing, and its shutdown ends
// within Config.DrainTimeout, leaving the pushes to SNoti's redelivery.
func TestPipelineShutdownLeavesUndurablePushesUnacked(t *testing.T) {
	const n = 60
	sim, c := source(t, snotisim.Fleet{Devices: 4, Rate: 2000, MaxEvents: n, Seed: 6})
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWriter{codec: codec, failCalls: 1 << 30, durable: map[uint64]time.Time{}}
	cfg := config()
	cfg.DrainTimeout = 500 * time.Millisecond
	p, err := ingest.New(cfg, w, codec, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := runPipeline(t, p, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Pushes >= n }); err != nil {
		t.Fatalf("pushes: %v (%+v)", err, sim.Summary())
	}
	testkit.Eventually(t, time.Minute, "retried writes", func() bool { return w.callCount() >= 3 })
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The drain, then up to 5 s to flush ACKs (none are queued: it returns at once).
	if took := time.Since(start); took > cfg.DrainTimeout+5*time.Second {
		t.Errorf("shutdown took %s, want at most the drain (%s) and the ACK flush", took, cfg.DrainTimeout)
	}
	if got := sim.Summary().Acks; got != 0 {
		t.Errorf("%d pushes ACKed while every write failed", got)
	}
	if p.Ready(context.Background()) == nil {
		t.Error("ready while every write failed")
	}
}

func TestNewRejectsAnIncompleteConfig(t *testing.T) {
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*ingest.Config)
	}{
		{"no events topic", func(c *ingest.Config) { c.TopicEvents = "" }},
		{"no invalid topic", func(c *ingest.Config) { c.TopicInvalid = "" }},
		{"batch size 0", func(c *ingest.Config) { c.BatchSize = 0 }},
		{"no room for un-ACKed pushes", func(c *ingest.Config) { c.MaxUnacked = 0 }},
		{"no retry backoff", func(c *ingest.Config) { c.RetryBackoffMax = 0 }},
		{"negative record limit", func(c *ingest.Config) { c.MaxRecordBytes = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config()
			tt.change(&cfg)
			if _, err := ingest.New(cfg, &fakeWriter{}, codec, zerolog.Nop(), nil); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := ingest.New(config(), &fakeWriter{}, codec, zerolog.Nop(), nil); err != nil {
		t.Errorf("a complete config: %v", err)
	}
}
