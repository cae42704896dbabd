package decode_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/decode"
	"github.com/snotibridge/snotibridge/pkg/records"
)

type discardWriter struct{}

func (discardWriter) WriteMessages(context.Context, ...kafka.Message) error { return nil }

// BenchmarkHandle is the decoder's per-event work without Kafka: a batch of
// 500 device_status_raw SnotiEvents (the EV charger's example frame) read,
// decoded and encoded as telemetry messages. allocs/op and B/op are per
// batch; the per-event figures are reported as allocs/event and B/event.
func BenchmarkHandle(b *testing.B) {
	dir := b.TempDir()
	def, err := os.ReadFile("../../services/decoder/codecs/" + evCharger + ".json")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dir+"/"+evCharger+".json", def, 0o644); err != nil {
		b.Fatal(err)
	}
	reg, err := codecs.Open(dir, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	codec, _ := records.NewCodec()
	const n = 500
	msgs := make([]kafka.Message, n)
	now := time.UnixMilli(1700000000000)
	for i := range msgs {
		did := fmt.Sprintf("dev%04d", i%100)
		msgs[i], err = codec.Message("", []byte(did), &records.SnotiEvent{
			EventID: fmt.Sprintf("%064x", i), EventType: "device_status_raw", ProductKey: evCharger, DID: did,
			MAC: "a1b2c3d4e5f6", CreatedAt: now, ReceivedAt: now, Protocol: "v1", DeliveryID: "1", Raw: frame,
			RawJSON: `{"cmd":"event_push","event_type":"device_status_raw","product_key":"` + evCharger + `","did":"` + did + `"}`,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	h := decode.NewHandler(reg, codec, discardWriter{}, prometheus.NewRegistry())
	ctx := context.Background()
	b.ReportAllocs()
	var ms0, ms1 runtimeMem
	ms0.read()
	for b.Loop() {
		for i, err := range h.Handle(ctx, msgs) {
			if err != nil {
				b.Fatalf("message %d: %v", i, err)
			}
		}
	}
	ms1.read()
	events := float64(b.N * n)
	b.ReportMetric(float64(ms1.mallocs-ms0.mallocs)/events, "allocs/event")
	b.ReportMetric(float64(ms1.bytes-ms0.bytes)/events, "B/event")
}
