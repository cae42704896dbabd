package snotisim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
)

const benchPK = "pk000000000000000000000000bench"

// startPair starts a simulator and a v2 client that ACKs every push at
// once, logged in, for benchmarks and tests of this package.
func startPair(tb testing.TB, simCfg snotisim.Config, prefetch int) (*snotisim.Server, *snoti.Client) {
	tb.Helper()
	simCfg.Addr = "127.0.0.1:0"
	simCfg.Products = []snotisim.Product{{ProductKey: benchPK, AuthID: "a", AuthSecret: "s", Subkeys: []string{"main"}}}
	srv, _ := simtest.Start(tb, simCfg)
	c := runClient(tb, srv, prefetch, snoti.HandlerFuncs{OnPush: func(p *snoti.Push) { p.Ack() }})
	return srv, c
}

func waitSummary(tb testing.TB, srv *snotisim.Server, timeout time.Duration, cond func(snotisim.Summary) bool) snotisim.Summary {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sum, err := srv.WaitFor(ctx, cond)
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

// BenchmarkSimToClient measures events/s from Publish to ACK over real
// TLS on loopback, the client ACKing every push at once.
func BenchmarkSimToClient(b *testing.B) {
	for _, prefetch := range []int{50, 1000} {
		b.Run(fmt.Sprintf("prefetch=%d", prefetch), func(b *testing.B) {
			srv, c := startPair(b, snotisim.Config{LedgerSize: 1 << 16, MaxBacklog: 1 << 30}, prefetch)
			waitUntilReady(b, c)
			batch := make([]snotisim.Event, 1000)
			for i := range batch {
				batch[i] = snotisim.Event{ProductKey: benchPK, EventType: snoti.EventDeviceStatusRaw, DID: "bench-did", MAC: "aabbccddeeff",
					Fields: map[string]any{"data": map[string]any{"raw": "AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA=="}}}
			}
			b.ResetTimer()
			for sent := 0; sent < b.N; {
				n := min(len(batch), b.N-sent)
				if _, err := srv.PublishBatch(batch[:n]); err != nil {
					b.Fatal(err)
				}
				sent += n
				// Keep the backlog bounded like a real producer would.
				waitSummary(b, srv, time.Minute, func(s snotisim.Summary) bool { return s.Backlog < 20000 })
			}
			waitSummary(b, srv, time.Minute, func(s snotisim.Summary) bool { return s.Acks == uint64(b.N) })
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if sum := srv.Summary(); sum.UnknownAcks != 0 || sum.Redeliveries != 0 {
				b.Fatalf("ledger %+v", sum)
			}
		})
	}
}

// BenchmarkFleetToClient measures the virtual-device fleet at full speed:
// building Gizwits frames and kv events, pushing, and ACKs.
func BenchmarkFleetToClient(b *testing.B) {
	srv, c := startPair(b, snotisim.Config{LedgerSize: 1 << 16, Fleet: snotisim.Fleet{Devices: 1000, MaxEvents: uint64(b.N), Seed: 1}}, 1000)
	waitUntilReady(b, c)
	b.ResetTimer()
	waitSummary(b, srv, 5*time.Minute, func(s snotisim.Summary) bool { return s.Acks == uint64(b.N) })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func waitUntilReady(tb testing.TB, c *snoti.Client) {
	tb.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !c.Ready() {
		select {
		case <-deadline:
			tb.Fatal("client did not log in")
		case <-tick.C:
		}
	}
}

// runClient runs a v2 client with handler h against srv until the test ends.
func runClient(t testing.TB, srv *snotisim.Server, prefetch int, h snoti.Handler) *snoti.Client {
	t.Helper()
	c, err := snoti.New(snoti.Config{
		Addr: srv.Addr(), CAFile: simtest.CAFile(t, srv), Prefetch: prefetch,
		Products: []snoti.Product{{ProductKey: benchPK, AuthID: "a", AuthSecret: "s", Subkey: "main", Events: snoti.Subscriptions()}},
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx, h) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// BenchmarkAckLatencyAt5k runs the fleet at 5000 events/s against a client
// that ACKs at once and reports first-push→ACK latency percentiles, the
// simulator-side half of the ingest's latency target.
func BenchmarkAckLatencyAt5k(b *testing.B) {
	srv, c := startPair(b, snotisim.Config{Fleet: snotisim.Fleet{Devices: 500, Rate: 5000, MaxEvents: uint64(b.N), Seed: 1}}, 50)
	waitUntilReady(b, c)
	b.ResetTimer()
	waitSummary(b, srv, 10*time.Minute, func(s snotisim.Summary) bool { return s.Acks == uint64(b.N) })
	b.StopTimer()
	lat := srv.AckLatency()
	b.ReportMetric(float64(lat.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat.P99.Microseconds()), "p99-µs")
}
