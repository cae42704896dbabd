package kafkatest

import (
	"context"
	"fmt"
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
	waitOffsets(tb, brokers, group, topic, partitions, timeout, fmt.Sprintf("%d offsets in total", n),
		func(_ context.Context, _ *kafka.Client, committed []int64) (bool, error) {
			var sum int64
			for _, c := range committed {
				sum += max(c, 0)
			}
			return sum >= int64(n), nil
		})
}

// WaitCaughtUp waits until group has committed, on every partition of
// topic, the partition's end offset as it is then: the group has done
// everything written so far (a benchmark waits for the stages to drain
// before it reads back, to keep its own work out of their way).
func WaitCaughtUp(tb testing.TB, brokers []string, group, topic string, partitions int, timeout time.Duration) {
	tb.Helper()
	waitOffsets(tb, brokers, group, topic, partitions, timeout, "the end offset of every partition",
		func(ctx context.Context, client *kafka.Client, committed []int64) (bool, error) {
			req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
			for p := range committed {
				req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
			}
			lo, err := client.ListOffsets(ctx, req)
			if err != nil {
				return false, err
			}
			ends := lo.Topics[topic]
			if len(ends) != len(committed) {
				return false, fmt.Errorf("ListOffsets answered %d of %d partitions", len(ends), len(committed))
			}
			for _, e := range ends {
				if e.Error != nil {
					return false, e.Error
				}
				if e.Partition >= len(committed) || committed[e.Partition] < e.LastOffset {
					return false, nil
				}
			}
			return true, nil
		})
}

// waitOffsets polls group's committed offsets of topic's partitions until
// done says so, failing tb after timeout with what it waited for (want).
func waitOffsets(tb testing.TB, brokers []string, group, topic string, partitions int, timeout time.Duration, want string,
	done func(context.Context, *kafka.Client, []int64) (bool, error)) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}}
	committed := make([]int64, partitions)
	var lastErr error
	for {
		of, err := client.OffsetFetch(ctx, req)
		if err == nil {
			err = of.Error
		}
		if err == nil {
			clear(committed)
			for _, p := range of.Topics[topic] {
				if p.Partition >= 0 && p.Partition < partitions {
					committed[p.Partition] = p.CommittedOffset
				}
			}
			var ok bool
			if ok, err = done(ctx, client, committed); err == nil && ok {
				return
			}
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("group %s had not committed %s of %s within %v (committed %v, last error %v)", group, want, topic, timeout, committed, lastErr)
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
