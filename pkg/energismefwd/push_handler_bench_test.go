package energismefwd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/records"
)

type nopPusher struct{}

func (nopPusher) Push(context.Context, energisme.Uplink) error { return nil }

// BenchmarkPushHandle is the push handler's own cost per event, without
// HTTP: a batch of 500 device_status_raw events of 100 devices turned into
// uplinks for a pusher that accepts them. allocs/op and B/op are per batch.
func BenchmarkPushHandle(b *testing.B) {
	codec, err := records.NewCodec()
	if err != nil {
		b.Fatal(err)
	}
	m, err := energismefwd.ParseMapping("m.json", []byte(`{"products":{"`+pk+`":{"devicetype":"gizwits-ev-charger"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	h, err := energismefwd.NewPushHandler(energismefwd.PushConfig{Mapping: m}, nopPusher{}, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]kafka.Message, 500)
	t0 := time.UnixMilli(1700000000000)
	for i := range msgs {
		did := fmt.Sprintf("dev%04d", i%100)
		msgs[i], err = codec.Message("events", []byte(did), &records.SnotiEvent{
			EventID: fmt.Sprintf("%064x", i), EventType: energismefwd.EventTypeRaw, ProductKey: pk, DID: did, MAC: "a1b2c3d4e5f6",
			CreatedAt: t0, ReceivedAt: t0, Protocol: "v1", DeliveryID: "1", Raw: make([]byte, 60),
			RawJSON: `{"cmd":"event_push","event_type":"device_status_raw","product_key":"` + pk + `","did":"` + did + `"}`,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for i, err := range h.Handle(ctx, msgs) {
			if err != nil {
				b.Fatalf("message %d: %v", i, err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "events/s")
}
