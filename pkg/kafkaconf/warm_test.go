package kafkaconf_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/listoffsets"
	"github.com/segmentio/kafka-go/protocol/metadata"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
)

// recordingTransport counts the metadata requests sent through a writer's
// transport, and records which partitions the ListOffsets asked for.
type recordingTransport struct {
	kafka.RoundTripper
	mu         sync.Mutex
	metadata   int                       // metadata requests
	partitions map[string]map[int32]bool // ListOffsets' topics and partitions
}

func (r *recordingTransport) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	r.mu.Lock()
	switch m := req.(type) {
	case *listoffsets.Request:
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				if r.partitions[t.Topic] == nil {
					r.partitions[t.Topic] = map[int32]bool{}
				}
				r.partitions[t.Topic][p.Partition] = true
			}
		}
	case *metadata.Request:
		r.metadata++
	}
	r.mu.Unlock()
	return r.RoundTripper.RoundTrip(ctx, addr, req)
}

// WarmWriter goes through the writer's own transport: the topics' metadata,
// then every partition of both (a ListOffsets, sent to each leader); it
// fails on a missing topic, and within its ctx when Kafka cannot be reached.
func TestWarmWriter(t *testing.T) {
	cfg := kafkatest.Config(t)
	a, b := kafkatest.Topic(t, cfg.Brokers, 3), kafkatest.Topic(t, cfg.Brokers, 1)
	w, err := cfg.NewWriter("")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rec := &recordingTransport{RoundTripper: w.Transport, partitions: map[string]map[int32]bool{}}
	w.Transport = rec
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkaconf.WarmWriter(ctx, w, a, b); err != nil {
		t.Fatal(err)
	}
	if rec.metadata == 0 || len(rec.partitions[a]) != 3 || len(rec.partitions[b]) != 1 {
		t.Errorf("through the writer's transport: %d other requests, ListOffsets of %v: want metadata and the 3+1 partitions", rec.metadata, rec.partitions)
	}
	// The writer writes through what it warmed.
	if err := w.WriteMessages(ctx, kafka.Message{Topic: a, Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}

	var unknown kafka.Error
	if err := kafkaconf.WarmWriter(ctx, w, a, a+".missing"); !errors.As(err, &unknown) || unknown != kafka.UnknownTopicOrPartition {
		t.Errorf("missing topic: %v, want UnknownTopicOrPartition", err)
	}

	down, err := kafkaconf.Config{Brokers: []string{"127.0.0.1:1"}}.NewWriter("") // nothing listens
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	if err := kafkaconf.WarmWriter(sctx, down, a); err == nil {
		t.Error("unreachable Kafka: warmed, want an error")
	}
	if err := kafkaconf.WarmWriter(ctx, &kafka.Writer{Addr: kafka.TCP(cfg.Brokers...)}, a); err == nil {
		t.Error("a writer without Transport: warmed, want an error (its writes would use another pool)")
	}
}

// A topic created a moment before (bridgectl topics ensure, then the
// services' start) has partitions whose leaders are still being elected:
// the warm-up waits for them rather than failing with NotLeaderForPartition,
// and the writer's first write then needs no metadata refresh of its own.
func TestWarmWriterWaitsForNewLeaders(t *testing.T) {
	cfg := kafkatest.Config(t)
	for range 3 {
		topic := kafkatest.Topic(t, cfg.Brokers, 6)
		w, err := cfg.NewWriter("")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		if err := kafkaconf.WarmWriter(ctx, w, topic); err != nil {
			t.Fatalf("a new topic's writer: %v, want it warmed once the leaders are elected", err)
		}
		t.Logf("%s warmed in %v", topic, time.Since(start).Round(time.Millisecond))
		if err := w.WriteMessages(ctx, kafka.Message{Topic: topic, Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		cancel()
		_ = w.Close()
	}
}
