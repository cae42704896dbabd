package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// BenchmarkDecoderThroughKafka measures the decoder service end to end:
// SnotiEvents with the example frame already in a 6-partition topic, decoded
// and written as telemetry (acks=all) with offsets committed, in events/s.
func BenchmarkDecoderThroughKafka(b *testing.B) {
	if b.N > 1 {
		b.Skip("one measured run is enough; see the reported metrics")
	}
	const n = 100_000
	brokers := kafkatest.Brokers(b)
	events := kafkatest.Topic(b, brokers, 6)
	telemetry := kafkatest.Topic(b, brokers, 6)
	dlq := kafkatest.Topic(b, brokers, 1)

	var fx frames
	raw, _ := os.ReadFile("testdata/ev-charger-standard.frames.json")
	if err := json.Unmarshal(raw, &fx); err != nil {
		b.Fatal(err)
	}
	frame, _ := base64.StdEncoding.DecodeString(fx.Frames[0].Base64)
	codec, _ := records.NewCodec()
	kc := kafkatest.Config(b)
	w, _ := kc.NewWriter(events)
	w.BatchSize = 5000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	batch := make([]kafka.Message, 0, 5000)
	now := time.Now()
	for i := 0; i < n; i++ {
		m, _ := codec.Message("", []byte(fmt.Sprintf("dev%04d", i%1000)), &records.SnotiEvent{
			EventID: fmt.Sprintf("e%d", i), EventType: "device_status_raw", ProductKey: evCharger, DID: fmt.Sprintf("dev%04d", i%1000),
			CreatedAt: now, ReceivedAt: now, Protocol: "v1", DeliveryID: "1", Raw: frame, RawJSON: "{}",
		})
		batch = append(batch, m)
		if len(batch) == cap(batch) {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	w.Close()

	cfg := Config{
		Base:      service.Base{Kafka: kc, ShutdownTimeout: 30 * time.Second},
		CodecsDir: "codecs", TopicEvents: events, TopicTelemetry: telemetry, TopicDLQ: dlq,
		GroupID: events + "-decoder", BatchSize: 2000,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	allocs := kafkatest.ReadAllocs()
	start := time.Now()
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, cfg, zerolog.Nop()) }()

	kafkatest.WaitCommitted(b, brokers, cfg.GroupID, events, 6, n, 10*time.Minute)
	took := time.Since(start)
	allocs.ReportPerEvent(b, n)
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	rate := float64(n) / took.Seconds()
	b.ReportMetric(rate, "events/s")
	report := fmt.Sprintf("# Decoder benchmark\n\n| measure | value |\n|---|---|\n| decoder through Kafka (consume, decode, write acks=all, commit), %d events | %.0f events/s |\n", n, rate)
	fmt.Print("\n" + report)
	if dir, err := filepath.Abs("../../bench-results"); err == nil && os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, "decoder.md"), []byte(report), 0o644)
	}
}
