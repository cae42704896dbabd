package kafkatest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// produceAndConsume writes n keyed records with acks=all and reads them
// back, asserting per-key order.
func produceAndConsume(t *testing.T, brokers []string, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := kafkaconf.Config{Brokers: brokers}.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("dev-%d", i%7)), Value: []byte(fmt.Sprint(i))}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("writing with acks=all: %v", err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, GroupID: topic + "-g", MinBytes: 1, MaxBytes: 10e6, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	last := map[string]int{}
	for got := 0; got < n; got++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("reading %d/%d: %v", got, n, err)
		}
		var v int
		if _, err := fmt.Sscan(string(m.Value), &v); err != nil {
			t.Fatalf("value %q: %v", m.Value, err)
		}
		if prev, ok := last[string(m.Key)]; ok && v <= prev {
			t.Fatalf("key %s out of order: %d after %d", m.Key, v, prev)
		}
		last[string(m.Key)] = v
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("committing: %v", err)
		}
	}
}

func TestSharedBrokerRoundTrip(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.Topic(t, brokers, 3)
	produceAndConsume(t, brokers, topic, 500)
}

func TestNoAutoCreate(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	w, err := kafkaconf.Config{Brokers: brokers}.NewWriter("never-created-" + fmt.Sprint(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.MaxAttempts = 1
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = w.WriteMessages(ctx, kafka.Message{Value: []byte("x")})
	if err == nil {
		t.Fatal("write to a missing topic succeeded: the broker auto-creates topics")
	}
	if !errors.Is(err, kafka.UnknownTopicOrPartition) && ctx.Err() == nil {
		t.Logf("write failed as expected: %v", err)
	}
}

func TestOwnedBrokerKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own broker")
	}
	b := kafkatest.StartBroker(t)
	brokers := []string{b.Addr()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := "owned"
	if err := kafkatest.CreateTopic(ctx, brokers, topic, 1); err != nil {
		t.Fatal(err)
	}
	w, _ := kafkaconf.Config{Brokers: brokers}.NewWriter(topic)
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	b.Kill()
	if err := b.Start(); err != nil {
		t.Fatalf("restarting after kill -9: %v", err)
	}
	conn, err := kafka.DialLeader(ctx, "tcp", b.Addr(), topic, 0)
	if err != nil {
		t.Fatalf("dialing leader after restart: %v", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	m, err := conn.ReadMessage(1 << 20)
	if err != nil || string(m.Value) != "before" {
		t.Fatalf("record acknowledged before kill -9: got %q, %v", m.Value, err)
	}
}
