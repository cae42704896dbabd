package consume_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// BenchmarkNoopCopy is the reference the consuming stages are measured
// against: the decoder's input (100k SnotiEvents of the size the decoder
// benchmark uses, 6 partitions) copied unchanged to another topic through
// consume.Runner — the stages' group reader, FetchMessage batches of 2000,
// one acks=all write per batch with kafkaconf.NewWriter, contiguous
// commits — with no work per record. Reported in records/s, timed from the
// runner's start to its last commit as the stages' benchmarks are.
func BenchmarkNoopCopy(b *testing.B) {
	if b.N > 1 {
		b.Skip("one measured run is enough; see the reported metrics")
	}
	const n = 100_000
	brokers := kafkatest.Brokers(b)
	in := kafkatest.Topic(b, brokers, 6)
	out := kafkatest.Topic(b, brokers, 6)
	dlq := kafkatest.Topic(b, brokers, 1)
	kc := kafkatest.Config(b)
	codec, err := records.NewCodec()
	if err != nil {
		b.Fatal(err)
	}
	size := fillSnotiEvents(b, kc.NewWriter, codec, in, n)

	// The first copy on a fresh broker runs at less than half the speed of
	// the next ones (the broker's JIT and page cache warming up: 41k against
	// 93k records/s measured here): one untimed copy first, so the
	// reference is the warm broker the stages' benchmarks meet too.
	copyAll(b, kc, codec, in, kafkatest.Topic(b, brokers, 6), dlq, n)
	allocs := kafkatest.ReadAllocs()
	took := copyAll(b, kc, codec, in, out, dlq, n)
	allocs.ReportPerEvent(b, n)
	b.ReportMetric(float64(n)/took.Seconds(), "records/s")
	b.ReportMetric(float64(size), "value-bytes")
}

// copyAll copies the n records of in to out with a new consumer group and
// returns the time from the runner's start to its last commit.
func copyAll(b *testing.B, kc kafkaconf.Config, codec *records.Codec, in, out, dlq string, n int) time.Duration {
	b.Helper()
	w, err := kc.NewWriter(out)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	copyBatch := consume.HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
		cp := make([]kafka.Message, len(msgs))
		for i, m := range msgs {
			cp[i] = kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers}
		}
		errs := make([]error, len(msgs))
		if err := w.WriteMessages(ctx, cp...); err != nil {
			for i := range errs {
				errs[i] = err
			}
		}
		return errs
	})
	group := out + "-copy"
	r, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "copy", DLQTopic: dlq},
		GroupID:         group, Topics: []string{in}, BatchSize: 2000,
	}, kc, copyBatch, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	kafkatest.WaitCommitted(b, kc.Brokers, group, in, 6, n, 10*time.Minute)
	took := time.Since(start)
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return took
}

// fillSnotiEvents writes n SnotiEvents like the decoder benchmark's
// (device_status_raw with the EV charger example frame) to topic and
// returns the size of one record value.
func fillSnotiEvents(b *testing.B, newWriter func(string) (*kafka.Writer, error), codec *records.Codec, topic string, n int) int {
	b.Helper()
	frame := []byte{0, 0, 0, 3, 0x1a, 0, 0, 0x91, 4, 3, 0x10, 5, 9, 1, 6, 0x27, 0, 0, 0x30, 0x39, 0x4b, 1, 2, 3, 4, 5, 6, 7, 8, 2, 0}
	w, err := newWriter(topic)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	w.BatchSize = 5000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	batch := make([]kafka.Message, 0, 5000)
	now := time.Now()
	size := 0
	for i := 0; i < n; i++ {
		did := fmt.Sprintf("dev%04d", i%1000)
		m, err := codec.Message("", []byte(did), &records.SnotiEvent{
			EventID: fmt.Sprintf("e%d", i), EventType: "device_status_raw", ProductKey: "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b", DID: did,
			CreatedAt: now, ReceivedAt: now, Protocol: "v1", DeliveryID: "1", Raw: frame, RawJSON: "{}",
		})
		if err != nil {
			b.Fatal(err)
		}
		size = len(m.Value)
		if batch = append(batch, m); len(batch) == cap(batch) || i == n-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return size
}
