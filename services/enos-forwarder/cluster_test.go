package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestChainOnClusterThroughBrokerFailures runs snoti-sim → ingest →
// decoder → enos-forwarder → EnOS on a 3-node cluster (RF=3,
// min.insync.replicas=2) through, in turn: kill -9 of the leader the
// ingest writes to; a second node killed (two of three down), then one
// back, then the other; a controlled
// leader change and restart of the telemetry leader; kill -9 of the decoder
// and both forwarders. Every SNoti event ends up in Kafka, every point at
// EnOS, every raw status at Energisme; nothing is ACKed before it is on the
// in-sync replicas.
func TestChainOnClusterThroughBrokerFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster and the chain's programs")
	}
	cl := kafkatest.StartCluster(t)
	const n = 9000
	c := newChainOn(t, cl.Brokers(), func(p int) string { return cl.Topic(t, p) },
		snotisim.Fleet{Devices: 60, Rate: 120, MaxEvents: n, Seed: 17})
	c.keepAlive = true
	c.withEnergisme, c.energismeDLQ = true, cl.Topic(t, 1)
	c.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	acks := func() uint64 { return c.sim.Summary().Acks }

	var killed *kafkatest.Broker // the first node down, kept down into the next step
	t.Run("leader of the ingest's partition killed", func(t *testing.T) {
		testkit.Eventually(t, 2*time.Minute, "1000 ACKs", func() bool { return acks() >= 1000 })
		leader, err := cl.Leader(ctx, c.events, 0)
		if err != nil {
			t.Fatal(err)
		}
		killedAt := time.Now()
		leader.Kill()
		before := acks()
		testkit.Eventually(t, 2*time.Minute, "ACKs resuming after the failover", func() bool { return acks() >= before+600 })
		// Every delivery ACKed so far is on the surviving replicas: read
		// back while the old leader is still down.
		acked := map[uint64]bool{}
		var times []time.Time
		for _, e := range c.sim.Entries() {
			if !e.Acked.IsZero() {
				acked[e.Seq] = true
				times = append(times, e.Acked)
			}
		}
		seen := c.readSeqs(t, acked, 2*time.Minute)
		if missing := len(acked) - len(seen); missing != 0 {
			t.Fatalf("%d ACKed deliveries are not on the surviving replicas", missing)
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		var pause time.Duration
		for i := 1; i < len(times); i++ {
			if times[i].After(killedAt.Add(-time.Second)) {
				pause = max(pause, times[i].Sub(times[i-1]))
			}
		}
		t.Logf("node %d (leader of %s/0) killed -9: %d ACKed deliveries all on the surviving replicas; ACK pause %d ms", leader.ID(), c.events, len(acked), pause.Milliseconds())
		killed = leader
	})

	t.Run("two of three nodes down", func(t *testing.T) {
		if s := c.sim.Summary(); s.Events >= n && s.Backlog == 0 {
			t.Fatalf("the stream is over (%+v): nothing left to refuse", s)
		}
		if killed == nil {
			t.Fatal("the previous step failed")
		}
		down := []*kafkatest.Broker{killed}
		var killedAt time.Time
		for _, b := range cl.Nodes {
			if b.Running() {
				killedAt = time.Now()
				b.Kill()
				down = append(down, b)
				break
			}
		}
		// A write acknowledged just before the kill may still be ACKed,
		// late: the writer returns a batch when all its partitions have
		// answered, and a partition whose replica died answers only at the
		// request timeout (10 s, up to 3 attempts). After that, nothing:
		// min.insync.replicas=2 refuses every write.
		testkit.Eventually(t, time.Minute, "ACKs to stop", func() bool {
			a := acks()
			time.Sleep(2 * time.Second)
			return acks() == a
		})
		frozen := acks()
		var rss int
		windowFrom := time.Now()
		deadline := windowFrom.Add(15 * time.Second)
		for time.Now().Before(deadline) {
			rss = max(rss, vmRSS(c.pid("ingest")))
			time.Sleep(200 * time.Millisecond)
		}
		// Any ACK in the window is a late one: its event must be in Kafka,
		// written before the kill (its record's time, stamped by the
		// ingest's writer before sending, is earlier), never a write that
		// one node alone took. Checked once a second node is back.
		late := map[uint64]bool{}
		for _, e := range c.sim.Entries() {
			if !e.Acked.IsZero() && !e.Acked.Before(windowFrom) && e.Acked.Before(deadline) {
				late[e.Seq] = true
			}
		}
		if len(late) > 128 { // prefetch × connections bounds what can be in flight
			t.Fatalf("%d ACKs with two of three nodes down (from %d), more than could be in flight before the kill", len(late), frozen)
		}
		if rss > 128<<20 {
			t.Errorf("ingest RSS %d MiB with the cluster down, want ≤ 128 MiB (bounded by prefetch × connections)", rss>>20)
		}
		if err := down[0].Start(); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 3*time.Minute, "ACKs resuming with two nodes up", func() bool { return acks() > frozen+100 })
		if len(late) > 0 {
			written := c.readSeqTimes(t, late, 2*time.Minute)
			for seq := range late {
				w, ok := written[seq]
				switch {
				case !ok:
					t.Errorf("delivery %d was ACKed with two of three nodes down and is not in Kafka", seq)
				case !w.Before(killedAt):
					t.Errorf("delivery %d was ACKed with two of three nodes down and written at %s, after the kill at %s", seq, w.Format(time.RFC3339Nano), killedAt.Format(time.RFC3339Nano))
				}
			}
			t.Logf("%d late ACKs in the window, each of a record written before the kill", len(late))
		}
		t.Logf("two nodes down for 15 s: ACKs frozen at %d, ingest peak RSS %d MiB; flowing again with one back", frozen, rss>>20)
		if err := down[1].Start(); err != nil {
			t.Fatal(err)
		}
		for _, topic := range []string{c.events, c.telemetry} {
			if err := cl.WaitISR(ctx, topic, 3); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("telemetry leader restarted", func(t *testing.T) {
		leader, err := cl.Leader(ctx, c.telemetry, 0)
		if err != nil {
			t.Fatal(err)
		}
		leader.Stop() // controlled shutdown: leadership moves first
		if l, err := cl.Leader(ctx, c.telemetry, 0); err != nil || l == leader {
			t.Fatalf("no leader change of %s/0: %v, %v", c.telemetry, l, err)
		}
		if err := leader.Start(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("decoder and forwarders killed", func(t *testing.T) {
		// What they committed is done: restarted from their commits, they
		// must still deliver everything.
		for _, name := range []string{"decoder", "enos-forwarder", "energisme-forwarder"} {
			p, _ := os.FindProcess(c.pid(name))
			_ = p.Kill()
		}
	})

	events := c.readEvents(t, n, 5*time.Minute)
	x := c.expect(t, events)
	waitPoints(t, c.enos, x.points, 5*time.Minute)
	final, cancelFinal := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelFinal()
	if err := c.enos.WaitFor(final, func(e *sinksim.EnOS) bool {
		s := e.Stats()
		return s.Events >= x.events && s.Attributes >= x.attrs
	}); err != nil {
		s := c.enos.Stats()
		t.Fatalf("events %d of %d, attributes %d of %d: %v", s.Events, x.events, s.Attributes, x.attrs, err)
	}
	got := map[point]int{}
	for _, p := range c.enos.Points() {
		if p.DeviceKey != warmUpDID {
			got[point{p.ProductKey + "/" + p.DeviceKey, p.PointID, p.Time}]++
		}
	}
	dups := 0
	for k, v := range got {
		if _, ok := x.points[k]; !ok {
			t.Errorf("unexpected point %+v", k)
		}
		dups += v - 1
	}
	// Energisme: one uplink per raw status event, by device and timestamp.
	wantUplinks := uplinkKeys(events)
	if len(wantUplinks) == 0 {
		t.Fatal("the fleet sent no device_status_raw event: nothing to push")
	}
	gotUplinks := c.waitUplinks(t, wantUplinks, 5*time.Minute)
	upDups := 0
	for k, v := range gotUplinks {
		if !wantUplinks[k] {
			t.Errorf("unexpected uplink %s", k)
		}
		upDups += v - 1
	}
	c.mu.Lock()
	exits := fmt.Sprint(c.exits)
	c.mu.Unlock()
	t.Logf("%d SNoti events, all in Kafka; %d points at EnOS, 0 missing, %d duplicates; %d uplinks at Energisme, 0 missing, %d duplicates; program exits restarted (the kills above included): %s",
		n, len(x.points), dups, len(wantUplinks), upDups, exits)
}

// readSeqs reads the events topic until every seq of want is there (or
// timeout) and returns those found.
func (c *chain) readSeqs(t *testing.T, want map[uint64]bool, timeout time.Duration) map[uint64]bool {
	t.Helper()
	seen := map[uint64]bool{}
	for seq := range c.readSeqTimes(t, want, timeout) {
		seen[seq] = true
	}
	return seen
}

// readSeqTimes reads the events topic until it has found every delivery
// of want (by sim_seq) or timeout, and returns the time of each one's
// first record.
func (c *chain) readSeqTimes(t *testing.T, want map[uint64]bool, timeout time.Duration) map[uint64]time.Time {
	t.Helper()
	r := kafkatest.NewReader(t, c.brokers, c.events)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := map[uint64]time.Time{}
	for len(seen) < len(want) {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Logf("reading %s: %d of %d found: %v", c.events, len(seen), len(want), err)
			return seen
		}
		var e records.SnotiEvent
		if err := c.codec.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		var v struct {
			Seq uint64 `json:"sim_seq"`
		}
		_ = json.Unmarshal([]byte(e.RawJSON), &v)
		if _, dup := seen[v.Seq]; want[v.Seq] && !dup {
			seen[v.Seq] = m.Time
		}
	}
	return seen
}

// vmRSS is a process's resident memory in bytes (Linux), 0 if unknown.
func vmRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb << 10
		}
	}
	return 0
}
