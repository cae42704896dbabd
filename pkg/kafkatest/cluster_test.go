package kafkatest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestClusterAcksAllSurvivesLeaderKill writes with the pipeline's writer
// (acks=all) while the leader of partition 0 is killed -9: every write the
// cluster acknowledged is on the surviving replicas, read while the old
// leader is still down; with two nodes down no write is acknowledged.
func TestClusterAcksAllSurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	c := kafkatest.StartCluster(t)
	topic := c.Topic(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w, err := kafkaconf.Config{Brokers: c.Brokers()}.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	var mu sync.Mutex
	acked := map[int]time.Time{}
	// write sends values from..from+n in batches of 20 (one batch per
	// BatchTimeout) and notes the time each one was acknowledged.
	write := func(from, n int) {
		for i := from; i < from+n; i += 20 {
			msgs := make([]kafka.Message, 0, 20)
			for j := i; j < i+20 && j < from+n; j++ {
				msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint("dev-", j%11)), Value: []byte(strconv.Itoa(j))})
			}
			err := w.WriteMessages(ctx, msgs...)
			werrs, _ := err.(kafka.WriteErrors)
			now := time.Now()
			mu.Lock()
			for k := range msgs {
				if err == nil || werrs != nil && werrs[k] == nil {
					acked[i+k] = now
				}
			}
			mu.Unlock()
		}
	}
	write(0, 400)
	leader, err := c.Leader(ctx, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); write(400, 1600) }()
	testkit.Eventually(t, 2*time.Minute, "800 acknowledged writes", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 800 })
	leader.Kill()
	<-done

	// The longest gap between two acknowledged writes: the failover pause.
	var pause time.Duration
	for i := 1; i < 2000; i++ {
		if a, ok := acked[i]; ok {
			for j := i - 1; j >= 0; j-- {
				if b, ok := acked[j]; ok {
					pause = max(pause, a.Sub(b))
					break
				}
			}
		}
	}
	got := map[int]bool{}
	r := kafkatest.NewReader(t, c.Brokers(), topic)
	for len(got) < len(acked) {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading back with node %d down: %d of %d acknowledged writes found: %v", leader.ID(), len(got), len(acked), err)
		}
		v, _ := strconv.Atoi(string(m.Value))
		if _, ok := acked[v]; ok {
			got[v] = true
		}
	}
	t.Logf("leader (node %d) killed -9 mid-stream: %d of 2000 writes acknowledged, all %d on the surviving replicas; longest pause between acknowledgements %d ms",
		leader.ID(), len(acked), len(got), pause.Milliseconds())

	// Two of three down: min.insync.replicas=2 refuses every acks=all write.
	var second *kafkatest.Broker
	for _, b := range c.Nodes {
		if b.Running() {
			second = b
			break
		}
	}
	second.Kill()
	short, cancelShort := context.WithTimeout(ctx, 15*time.Second)
	defer cancelShort()
	if err := w.WriteMessages(short, kafka.Message{Key: []byte("dev-0"), Value: []byte("-1")}); err == nil {
		t.Fatal("a write was acknowledged with two of three nodes down")
	}
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitISR(ctx, topic, 2); err != nil {
		t.Fatal(err)
	}
	// A writer of its own: the first one's metadata may still name the
	// node that is down as a leader for a few seconds (the ingest retries
	// through that; this test just wants to see a write accepted).
	w2, err := kafkaconf.Config{Brokers: c.Brokers()}.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	testkit.Eventually(t, 2*time.Minute, "a write accepted with two of three nodes up", func() bool {
		return w2.WriteMessages(ctx, kafka.Message{Key: []byte("dev-0"), Value: []byte("2000")}) == nil
	})
}
