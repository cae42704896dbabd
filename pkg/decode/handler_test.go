package decode_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/decode"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

const evCharger = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// frame is the example status report of the shared EV charger export.
var frame = []byte{0, 0, 0, 3, 0x1a, 0, 0, 0x91, 4, 3, 0x10, 5, 9, 1, 6, 0x27, 0, 0, 0x30, 0x39, 0x4b, 1, 2, 3, 4, 5, 6, 7, 8, 2, 0}

type memWriter struct {
	msgs []kafka.Message
	err  error
}

func (w *memWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	if w.err != nil {
		return w.err
	}
	w.msgs = append(w.msgs, msgs...)
	return nil
}

func TestHandle(t *testing.T) {
	dir := t.TempDir()
	def, err := os.ReadFile("../../services/decoder/codecs/" + evCharger + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/"+evCharger+".json", def, 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := codecs.Open(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	codec, _ := records.NewCodec()
	event := func(typ, pk string, raw []byte, kv map[string]any) kafka.Message {
		now := time.UnixMilli(1700000000000)
		m, err := codec.Message("", []byte("dev1"), &records.SnotiEvent{EventID: "e-" + typ, EventType: typ, ProductKey: pk, DID: "dev1",
			CreatedAt: now, ReceivedAt: now, Protocol: "v2", DeliveryID: "1", Raw: raw, KV: kv, RawJSON: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name      string
		msg       kafka.Message
		writeErr  error
		wantClass sinkerr.Class
		wantOut   int
		reason    string
	}{
		{name: "raw frame decoded", msg: event("device_status_raw", evCharger, frame, nil), wantClass: sinkerr.ClassSuccess, wantOut: 1},
		{name: "kv typed", msg: event("device_status_kv", evCharger, nil, map[string]any{"charge_enable": int64(1)}), wantClass: sinkerr.ClassSuccess, wantOut: 1},
		{name: "online has no points", msg: event("device_online", evCharger, nil, nil), wantClass: sinkerr.ClassSuccess},
		{name: "no codec", msg: event("device_status_raw", "other", frame, nil), wantClass: sinkerr.ClassPermanent, reason: "no_codec"},
		{name: "truncated", msg: event("device_status_raw", evCharger, frame[:12], nil), wantClass: sinkerr.ClassPermanent, reason: "too_short"},
		{name: "not a record", msg: kafka.Message{Value: []byte("junk")}, wantClass: sinkerr.ClassPermanent, reason: "bad_record"},
		{name: "Kafka down is retryable", msg: event("device_status_raw", evCharger, frame, nil), writeErr: errors.New("broker gone"), wantClass: sinkerr.ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &memWriter{err: tt.writeErr}
			h := decode.NewHandler(reg, codec, w, prometheus.NewRegistry())
			errs := h.Handle(context.Background(), []kafka.Message{tt.msg})
			if got := sinkerr.Classify(errs[0]); got != tt.wantClass {
				t.Fatalf("outcome %s (%v), want %s", got, errs[0], tt.wantClass)
			}
			if tt.reason != "" && consume.ReasonOf(errs[0]) != tt.reason {
				t.Errorf("reason %q, want %q", consume.ReasonOf(errs[0]), tt.reason)
			}
			if len(w.msgs) != tt.wantOut {
				t.Fatalf("%d telemetry records, want %d", len(w.msgs), tt.wantOut)
			}
			if tt.wantOut == 1 {
				var tel records.DeviceTelemetry
				if err := codec.Unmarshal(w.msgs[0].Value, &tel); err != nil {
					t.Fatal(err)
				}
				if tel.EventID != records.Header(tt.msg, "event_id") || string(w.msgs[0].Key) != "dev1" || len(tel.Points) == 0 {
					t.Errorf("telemetry %+v key %q", tel, w.msgs[0].Key)
				}
			}
		})
	}
}
