package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

const evCharger = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

type frames struct {
	Frames []struct {
		Base64   string         `json:"base64"`
		Expected map[string]any `json:"expected"`
	} `json:"frames"`
}

func TestDecoderEndToEnd(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	events := kafkatest.Topic(t, brokers, 3)
	telemetry := kafkatest.Topic(t, brokers, 3)
	dlq := kafkatest.Topic(t, brokers, 1)

	var fx frames
	b, err := os.ReadFile("testdata/ev-charger-standard.frames.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	frame, _ := base64.StdEncoding.DecodeString(fx.Frames[0].Base64)

	codec, _ := records.NewCodec()
	now := time.UnixMilli(1700000000000).UTC()
	ev := func(id, typ, pk, did string, raw []byte, kv map[string]any) kafka.Message {
		m, err := codec.Message(events, []byte(did), &records.SnotiEvent{
			EventID: id, EventType: typ, ProductKey: pk, DID: did, CreatedAt: now, ReceivedAt: now,
			Protocol: "v2", DeliveryID: "1", Raw: raw, KV: kv, RawJSON: "{}",
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Topic = ""
		return m
	}
	const good = 50
	var in []kafka.Message
	for i := 0; i < good; i++ {
		in = append(in, ev(fmt.Sprintf("raw-%d", i), "device_status_raw", evCharger, fmt.Sprintf("dev%d", i%7), frame, nil))
	}
	in = append(in,
		ev("kv-1", "device_status_kv", evCharger, "dev1", nil, map[string]any{"charge_enable": int64(1), "mode": "auto", "voltage": 231.4}),
		ev("online-1", "device_online", evCharger, "dev1", nil, nil),
		ev("short-1", "device_status_raw", evCharger, "dev2", frame[:9], nil),
		ev("nocodec-1", "device_status_raw", "unknownproduct", "dev3", frame, nil),
	)
	kc := kafkatest.Config(t)
	w, _ := kc.NewWriter(events)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, in...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	cfg := Config{
		Base:      service.Base{Kafka: kc, ShutdownTimeout: 30 * time.Second},
		CodecsDir: "codecs", TopicEvents: events, TopicTelemetry: telemetry, TopicDLQ: dlq,
		GroupID: events + "-decoder", BatchSize: 100,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger()) }()

	// Every good raw frame and the kv event arrive, with the expected values.
	tr := kafkatest.NewReader(t, brokers, telemetry)
	got := map[string]records.DeviceTelemetry{}
	for len(got) < good+1 {
		m, err := tr.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading telemetry after %d records: %v", len(got), err)
		}
		var tel records.DeviceTelemetry
		if err := codec.Unmarshal(m.Value, &tel); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != tel.DID {
			t.Errorf("key %q, want did %q", m.Key, tel.DID)
		}
		got[tel.EventID] = tel
	}
	for i := 0; i < good; i++ {
		tel := got[fmt.Sprintf("raw-%d", i)]
		if tel.Kind != "status_report" || !tel.Time.Equal(now) {
			t.Errorf("raw-%d: kind %q time %v", i, tel.Kind, tel.Time)
		}
		values := map[string]any{}
		for _, p := range tel.Points {
			values[p.Name] = p.Value
		}
		for name, want := range fx.Frames[0].Expected {
			if fmt.Sprint(values[name]) != fmt.Sprint(want) {
				t.Errorf("raw-%d %s = %v (%T), want %v", i, name, values[name], values[name], want)
			}
		}
	}
	kv := map[string]any{}
	for _, p := range got["kv-1"].Points {
		kv[p.Name] = p.Value
	}
	if kv["charge_enable"] != true || kv["mode"] != "auto" || kv["voltage"] != 231.4 {
		t.Errorf("kv telemetry %v: want charge_enable true, mode auto, voltage 231.4", kv)
	}

	// The two bad payloads are dead-lettered with their reasons.
	dr := kafkatest.NewReader(t, brokers, dlq)
	reasons := map[string]string{}
	for len(reasons) < 2 {
		m, err := dr.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading DLQ: %v", err)
		}
		var dl records.DeadLetter
		if err := codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		var orig records.SnotiEvent
		if err := codec.Unmarshal(dl.Value, &orig); err != nil {
			t.Fatalf("dead letter does not hold the original record: %v", err)
		}
		reasons[orig.EventID] = dl.Reason
	}
	if reasons["short-1"] != "too_short" && reasons["short-1"] != "length_mismatch" {
		t.Errorf("short frame reason %q", reasons["short-1"])
	}
	if reasons["nocodec-1"] != "no_codec" {
		t.Errorf("unknown product reason %q, want no_codec", reasons["nocodec-1"])
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestDecoderDuplicateInOneBatch: a retried ingest write can put one
// delivery at two consecutive offsets. Both copies come in one batch; the
// decoder writes the telemetry once.
func TestDecoderDuplicateInOneBatch(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	events := kafkatest.Topic(t, brokers, 1)
	telemetry := kafkatest.Topic(t, brokers, 1)
	dlq := kafkatest.Topic(t, brokers, 1)
	codec, _ := records.NewCodec()
	now := time.UnixMilli(1700000000000).UTC()
	ev := func(id string) kafka.Message {
		m, err := codec.Message("", []byte("dev1"), &records.SnotiEvent{
			EventID: id, EventType: "device_status_kv", ProductKey: evCharger, DID: "dev1", CreatedAt: now, ReceivedAt: now,
			Protocol: "v2", DeliveryID: "1", KV: map[string]any{"voltage": 230.0}, RawJSON: "{}",
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	kc := kafkatest.Config(t)
	w, _ := kc.NewWriter(events)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, ev("twice"), ev("twice"), ev("once")); err != nil {
		t.Fatal(err)
	}
	w.Close()

	cfg := Config{
		Base:      service.Base{Kafka: kc, ShutdownTimeout: 30 * time.Second},
		CodecsDir: "codecs", TopicEvents: events, TopicTelemetry: telemetry, TopicDLQ: dlq,
		GroupID: events + "-decoder", BatchSize: 100,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)) }()

	client, _ := kc.Client()
	testkit.Eventually(t, 2*time.Minute, "the three events committed", func() bool {
		lags, err := consume.GroupLag(ctx, client, cfg.GroupID, map[string][]int{events: {0}})
		return err == nil && len(lags) == 1 && lags[0].Committed == 3
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	var ids []string
	for _, m := range kafkatest.ReadN(t, brokers, telemetry, 2, time.Minute) {
		var tel records.DeviceTelemetry
		if err := codec.Unmarshal(m.Value, &tel); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tel.EventID)
	}
	lags, err := consume.GroupLag(ctx, client, "nobody", map[string][]int{telemetry: {0}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[twice once]" || lags[0].End != 2 {
		t.Errorf("telemetry %v, %d records: want [twice once], 2 records", ids, lags[0].End)
	}
}
