package enosfwd_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// benchBatch is 250 EV charger status reports of 50 devices, 9 points each.
func benchBatch(b *testing.B) []kafka.Message {
	msgs := make([]kafka.Message, 250)
	for i := range msgs {
		msgs[i] = telemetry(b, "pk-ev", fmt.Sprintf("dev-%02d", i%50), "", t0.Add(time.Duration(i)*time.Millisecond),
			records.DataPoint{Name: "charge_enable", Value: true}, records.DataPoint{Name: "mode", Value: "auto"},
			records.DataPoint{Name: "current_limit", Value: int64(32)}, records.DataPoint{Name: "plug_connected", Value: true},
			records.DataPoint{Name: "state", Value: "charging"}, records.DataPoint{Name: "voltage", Value: 230.1},
			records.DataPoint{Name: "current", Value: 16.02}, records.DataPoint{Name: "energy_kwh", Value: 12.345},
			records.DataPoint{Name: "temperature", Value: int64(35)})
	}
	return msgs
}

// BenchmarkHandle is the handler's own cost per record: decoding, mapping
// and handing entries to a client that accepts everything.
func BenchmarkHandle(b *testing.B) {
	h, _ := newHandler(b, acceptAll{}, enosfwd.Options{})
	msgs := benchBatch(b)
	b.ResetTimer()
	for b.Loop() {
		h.Handle(context.Background(), msgs)
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkHandleIntoEmulator adds the real client's JSON and multipart
// encoding and an HTTP round trip to the in-process EnOS emulator.
func BenchmarkHandleIntoEmulator(b *testing.B) {
	sim, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := enos.New(enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "ak", SecretKey: "sk", OrgID: "org"}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	h, _ := newHandler(b, client, enosfwd.Options{})
	msgs := benchBatch(b)
	b.ResetTimer()
	for b.Loop() {
		h.Handle(context.Background(), msgs)
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "records/s")
}

type acceptAll struct{}

func (acceptAll) PostMeasurepoints(_ context.Context, e []enos.MeasurepointEntry, _ ...enos.SendOption) enos.Result {
	return enos.Result{Errs: make([]error, len(e))}
}

func (acceptAll) PostEvents(_ context.Context, e []enos.EventEntry, _ ...enos.SendOption) enos.Result {
	return enos.Result{Errs: make([]error, len(e))}
}

func (acceptAll) PostAttributes(_ context.Context, e []enos.AttributeEntry, _ ...enos.SendOption) enos.Result {
	return enos.Result{Errs: make([]error, len(e))}
}
