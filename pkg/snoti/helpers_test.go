package snoti_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
)

const (
	testPK      = "pk00000000000000000000000000test"
	testAuthID  = "auth-id"
	testSecret  = "auth-secret"
	testEntID   = "ent-1"
	testEntSec  = "ent-secret"
	waitTimeout = 20 * time.Second
)

// allEvents subscribes to every event type.
var allEvents = snoti.Subscriptions()

// startSim starts a simulator for proto: one v2 product (queue "main"
// declared) or one v1 enterprise, after mod adjusts the config.
func startSim(t testing.TB, proto string, mod func(*snotisim.Config)) *snotisim.Server {
	t.Helper()
	cfg := snotisim.Config{Addr: "127.0.0.1:0"}
	if proto == snoti.ProtocolV1 {
		cfg.Enterprises = []snotisim.Enterprise{{ID: testEntID, Secret: testEntSec}}
	} else {
		cfg.Products = []snotisim.Product{{ProductKey: testPK, AuthID: testAuthID, AuthSecret: testSecret, Subkeys: []string{"main"}}}
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, _ := simtest.Start(t, cfg)
	return srv
}

// clientConfig points a client at srv, trusting its certificate, with
// short backoffs for tests.
func clientConfig(t testing.TB, srv *snotisim.Server, proto string) snoti.Config {
	t.Helper()
	cfg := snoti.Config{
		Addr:       srv.Addr(),
		Protocol:   proto,
		CAFile:     simtest.CAFile(t, srv),
		Prefetch:   50,
		BackoffMin: 5 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond,
	}
	if proto == snoti.ProtocolV1 {
		cfg.EnterpriseID, cfg.EnterpriseSecret = testEntID, testEntSec
	} else {
		cfg.Products = []snoti.Product{{ProductKey: testPK, AuthID: testAuthID, AuthSecret: testSecret, Subkey: "main", Events: allEvents}}
	}
	return cfg
}

// collector is a Handler that queues what it receives.
type collector struct {
	pushes  chan *snoti.Push
	invalid chan snoti.Invalid
}

func newCollector() *collector {
	return &collector{pushes: make(chan *snoti.Push, 100000), invalid: make(chan snoti.Invalid, 1000)}
}

func (c *collector) HandlePush(p *snoti.Push)        { c.pushes <- p }
func (c *collector) HandleInvalid(inv snoti.Invalid) { c.invalid <- inv }

// ackAll is a Handler that ACKs every push at once.
type ackAll struct {
	mu      sync.Mutex
	invalid []snoti.Invalid
}

func (a *ackAll) HandlePush(p *snoti.Push) { p.Ack() }
func (a *ackAll) HandleInvalid(inv snoti.Invalid) {
	a.mu.Lock()
	a.invalid = append(a.invalid, inv)
	a.mu.Unlock()
}

// runClient builds and runs a client until the test ends.
func runClient(t testing.TB, cfg snoti.Config, h snoti.Handler, log zerolog.Logger, opts ...snoti.Option) *snoti.Client {
	t.Helper()
	c, err := snoti.New(cfg, log, opts...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c
}

// waitCtx is the deadline every condition wait uses.
func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitUntil polls cond until it holds or the wait deadline passes.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// waitSim waits for a ledger condition.
func waitSim(t testing.TB, srv *snotisim.Server, what string, cond func(snotisim.Summary) bool) snotisim.Summary {
	t.Helper()
	sum, err := srv.WaitFor(waitCtx(t), cond)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return sum
}

// nextPush receives one push or fails the test.
func nextPush(t testing.TB, c *collector) *snoti.Push {
	t.Helper()
	select {
	case p := <-c.pushes:
		return p
	case <-waitCtx(t).Done():
		t.Fatal("timed out waiting for a push")
		return nil
	}
}

// publish publishes n simple kv events and returns their sim_seq.
func publish(t testing.TB, srv *snotisim.Server, n int) []uint64 {
	t.Helper()
	es := make([]snotisim.Event, n)
	for i := range es {
		es[i] = snotisim.Event{ProductKey: testPK, EventType: "device_status_kv", DID: "did1", MAC: "aabbccddeeff",
			Fields: map[string]any{"data": map[string]any{"n": i}}}
	}
	seqs, err := srv.PublishBatch(es)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// syncBuffer is a log sink safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
