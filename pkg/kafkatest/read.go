package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// NewReader returns a reader of every partition of topic from the earliest
// offset, in a consumer group of its own, with a short MaxWait so that
// Close returns quickly (kafka-go's default MaxWait of 10 s makes Close
// block that long). It is closed when the test ends.
func NewReader(tb testing.TB, brokers []string, topic string) *kafka.Reader {
	tb.Helper()
	var id [4]byte
	_, _ = rand.Read(id[:])
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     brokers,
		GroupID:     "kafkatest-" + hex.EncodeToString(id[:]),
		GroupTopics: []string{topic},
		StartOffset: kafka.FirstOffset,
		MinBytes:    1,
		MaxBytes:    10 << 20,
		MaxWait:     100 * time.Millisecond,
	})
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// ReadN reads n messages of topic (all partitions, from the start) or fails
// the test when they do not arrive within timeout. It fetches without
// committing: the reader's group is its own and read once, and a commit
// only adds a way to fail (a coordinator connection closed under a loaded
// broker ended a test's read with "committing message: … use of closed
// network connection").
func ReadN(tb testing.TB, brokers []string, topic string, n int, timeout time.Duration) []kafka.Message {
	tb.Helper()
	r := NewReader(tb, brokers, topic)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out := make([]kafka.Message, 0, n)
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			tb.Fatalf("reading %s: got %d of %d messages: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}
