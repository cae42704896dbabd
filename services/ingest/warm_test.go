package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/listoffsets"
	"github.com/segmentio/kafka-go/protocol/produce"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// roundTrip is one request through the writer's transport, with the SNoti
// logins the simulator had counted when it was sent and when it returned.
type roundTrip struct {
	kind                      string // "listoffsets", "produce", "other"
	loginsBefore, loginsAfter uint64
	err                       error
}

// loginClock records the writer's round trips against the simulator's
// login count.
type loginClock struct {
	kafka.RoundTripper
	sim  *snotisim.Server
	mu   sync.Mutex
	trip []roundTrip
}

func (l *loginClock) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	rt := roundTrip{kind: "other", loginsBefore: l.sim.Summary().Logins}
	switch req.(type) {
	case *listoffsets.Request:
		rt.kind = "listoffsets"
	case *produce.Request:
		rt.kind = "produce"
	}
	res, err := l.RoundTripper.RoundTrip(ctx, addr, req)
	rt.loginsAfter, rt.err = l.sim.Summary().Logins, err
	l.mu.Lock()
	l.trip = append(l.trip, rt)
	l.mu.Unlock()
	return res, err
}

// The ingest logs in to SNoti only once its writer is ready: the topics'
// metadata fetched and the partition leaders connected through the
// writer's own transport, so the first pushes do not wait for them.
func TestIngestWarmsTheWriterBeforeLogin(t *testing.T) {
	const n = 200
	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{Devices: 10, Rate: 1000, MaxEvents: n, Seed: 5})
	clock := &loginClock{sim: h.sim}
	h.startInProcess(t, func(o *options) {
		o.wrapTransport = func(rt kafka.RoundTripper) kafka.RoundTripper { clock.RoundTripper = rt; return clock }
	})
	h.waitAcked(t, n, time.Minute)

	clock.mu.Lock()
	defer clock.mu.Unlock()
	if len(clock.trip) == 0 || clock.trip[0].loginsBefore != 0 {
		t.Fatalf("first round trips %+v: want the first one before the login", clock.trip[:min(3, len(clock.trip))])
	}
	warmed, produced := false, false
	for _, rt := range clock.trip {
		switch rt.kind {
		case "listoffsets":
			if produced || rt.err != nil || rt.loginsAfter != 0 {
				t.Errorf("leader connections (ListOffsets) %+v: want them done, without error, before the login and the first produce", rt)
			}
			warmed = true
		case "produce":
			produced = true
		}
	}
	if !warmed || !produced {
		t.Errorf("%d round trips, ListOffsets %t, produce %t: want the leaders' ListOffsets, then produce requests", len(clock.trip), warmed, produced)
	}
}

// When Kafka does not answer at start (a listener that accepts and never
// replies), the ingest waits at most the start timeout (15 s), says so, and
// logs in to SNoti anyway: its writes retry, nothing is ACKed until they
// succeed.
func TestIngestLogsInWhenKafkaIsNotReadyAtStart(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	held.Add(1)
	go func() {
		defer held.Done()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = silent.Close()
		held.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{})
	cfg := h.config()
	cfg.Kafka.Brokers = []string{silent.Addr().String()}
	var logs testkit.SyncBuffer
	log := zerolog.New(zerolog.MultiLevelWriter(&logs, zerolog.NewTestWriter(t))).Level(zerolog.WarnLevel)
	// The default bound, as a deployment has it (15 s).
	const bound = kafkaStartTimeout
	start := time.Now()
	testkit.RunInProcess(t, "ingest", func(ctx context.Context) error { return run(ctx, cfg, log) })
	testkit.Eventually(t, bound+30*time.Second, "a SNoti login", func() bool { return h.sim.Summary().Logins >= 1 })
	// The topics' check may give up first: a broker that accepts and never
	// answers fails the connection's dial after its 10 s timeout.
	if took := time.Since(start); took > bound+5*time.Second {
		t.Errorf("logged in after %s: the start timeout %s did not bound the wait for Kafka", took, bound)
	}
	// Said once: the topics' check found Kafka silent, so the warm-up is
	// not tried after it.
	if !strings.Contains(logs.String(), "Kafka not reachable at start") || strings.Contains(logs.String(), "Kafka writer not ready at start") {
		t.Errorf("logs %s: want Kafka's silence said once, by the topics' check", logs.String())
	}
}

// stallLeaders is the writer's transport with every ListOffsets request
// (the warm-up's leader connections) held until its ctx ends.
type stallLeaders struct{ kafka.RoundTripper }

func (s stallLeaders) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	if _, ok := req.(*listoffsets.Request); ok {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.RoundTripper.RoundTrip(ctx, addr, req)
}

// A Kafka that answers the topics' check but never finishes the writer's
// warm-up holds the login for the default start timeout (15 s), not
// longer: the ingest then says so, logs in, and ACKs what it writes.
func TestIngestStartWaitsAtMostTheStartTimeout(t *testing.T) {
	const n = 50
	h := newHarness(t, kafkatest.Brokers(t), snotisim.Fleet{Devices: 5, Rate: 500, MaxEvents: n, Seed: 8, StartOnLogin: true})
	var logs testkit.SyncBuffer
	log := zerolog.New(zerolog.MultiLevelWriter(&logs, zerolog.NewTestWriter(t))).Level(zerolog.WarnLevel)
	start := time.Now()
	testkit.RunInProcess(t, "ingest", func(ctx context.Context) error {
		return run(ctx, h.config(), log, func(o *options) {
			o.wrapTransport = func(rt kafka.RoundTripper) kafka.RoundTripper { return stallLeaders{rt} }
		})
	})
	testkit.Eventually(t, kafkaStartTimeout+30*time.Second, "a SNoti login", func() bool { return h.sim.Summary().Logins >= 1 })
	if took := time.Since(start); took < kafkaStartTimeout || took > kafkaStartTimeout+5*time.Second {
		t.Errorf("logged in after %s: want the start timeout, %s, and a little", took, kafkaStartTimeout)
	}
	if !strings.Contains(logs.String(), "Kafka writer not ready at start") {
		t.Errorf("logs %s: want the warm-up's failure said", logs.String())
	}
	h.waitAcked(t, n, time.Minute)
}
