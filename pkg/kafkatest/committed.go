package kafkatest

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// WaitCommitted waits until group has committed at least n offsets in
// total over the partitions of topic (benchmarks use it to time a stage
// from start to its last commit), failing tb after timeout.
func WaitCommitted(tb testing.TB, brokers []string, group, topic string, partitions, n int, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}}
	var committed int64
	var lastErr error
	for {
		of, err := client.OffsetFetch(ctx, req)
		if err == nil {
			err = of.Error
		}
		if err != nil {
			lastErr = err
		} else {
			committed = 0
			for _, p := range of.Topics[topic] {
				committed += max(p.CommittedOffset, 0)
			}
			if committed >= int64(n) {
				return
			}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("group %s committed %d of %d offsets of %s within %v (last error %v)", group, committed, n, topic, timeout, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Allocs is the process's allocation counters at one moment (ReadAllocs).
type Allocs struct{ mallocs, bytes uint64 }

// ReadAllocs reads the allocation counters.
func ReadAllocs() Allocs {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return Allocs{s.Mallocs, s.TotalAlloc}
}

// ReportPerEvent reports, as the metrics allocs/event and B/event, what the
// process allocated since a, divided by events: the cost per event of a
// stage run in-process against a real broker (which runs in its own JVM, so
// the figures are the stage's and its Kafka client's alone).
func (a Allocs) ReportPerEvent(b *testing.B, events int) {
	now := ReadAllocs()
	b.ReportMetric(float64(now.mallocs-a.mallocs)/float64(events), "allocs/event")
	b.ReportMetric(float64(now.bytes-a.bytes)/float64(events), "B/event")
}
