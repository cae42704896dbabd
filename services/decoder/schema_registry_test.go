package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/registrytest"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// TestDecoderWithSchemaRegistry runs the decoder with SCHEMA_REGISTRY_URL
// against a real registry: it reads events written both ways (framed by an
// ingest that registered SnotiEvent, and single-object encoded), registers
// DeviceTelemetry under <telemetry>-value and writes framed telemetry.
func TestDecoderWithSchemaRegistry(t *testing.T) {
	url := registrytest.URL(t)
	brokers := kafkatest.Brokers(t)
	events := kafkatest.Topic(t, brokers, 1)
	telemetry := kafkatest.Topic(t, brokers, 1)
	dlq := kafkatest.Topic(t, brokers, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := schemaregistry.Config{URL: url, Timeout: 10 * time.Second}

	var fx frames
	b, err := os.ReadFile("testdata/ev-charger-standard.frames.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	frame, _ := base64.StdEncoding.DecodeString(fx.Frames[0].Base64)
	plain, _ := records.NewCodec()
	ingest, err := schemaregistry.Setup(ctx, src, plain, []schemaregistry.Write{{Topic: events, Record: "SnotiEvent"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1700000000000).UTC()
	var in []kafka.Message
	for i, c := range []*records.Codec{ingest, plain} {
		m, err := c.Message(events, []byte("dev1"), &records.SnotiEvent{
			EventID: []string{"framed", "soe"}[i], EventType: "device_status_raw", ProductKey: evCharger, DID: "dev1",
			CreatedAt: now, ReceivedAt: now, Protocol: "v2", DeliveryID: "1", Raw: frame, RawJSON: "{}",
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Topic = ""
		in = append(in, m)
	}
	if in[0].Value[0] != 0 || in[1].Value[0] != 0xC3 {
		t.Fatalf("inputs start % x and % x, want one framed, one single-object", in[0].Value[:1], in[1].Value[:1])
	}
	kc := kafkatest.Config(t)
	w, _ := kc.NewWriter(events)
	if err := w.WriteMessages(ctx, in...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	cfg := Config{
		Base:           service.Base{Kafka: kc, ShutdownTimeout: 30 * time.Second},
		SchemaRegistry: src,
		CodecsDir:      "codecs", TopicEvents: events, TopicTelemetry: telemetry, TopicDLQ: dlq,
		GroupID: events + "-decoder", BatchSize: 100,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(rctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)) }()

	reader, err := schemaregistry.Setup(ctx, src, plain, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	want := subjectLatestID(t, url, telemetry+"-value", done)
	got := map[string]bool{}
	for _, m := range kafkatest.ReadN(t, brokers, telemetry, 2, time.Minute) {
		if m.Value[0] != 0 || int(binary.BigEndian.Uint32(m.Value[1:5])) != want {
			t.Errorf("telemetry starts % x, want 00 and schema id %d", m.Value[:5], want)
		}
		var tel records.DeviceTelemetry
		if err := reader.Unmarshal(m.Value, &tel); err != nil {
			t.Fatal(err)
		}
		if tel.Kind != "status_report" || len(tel.Points) == 0 {
			t.Errorf("telemetry %+v", tel)
		}
		got[tel.EventID] = true
	}
	if !got["framed"] || !got["soe"] {
		t.Errorf("telemetry of %v, want of both inputs", got)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestDecoderRefusesIncompatibleSchema: a telemetry subject whose latest
// version our DeviceTelemetry cannot read stops the decoder at start, with
// the subject named.
func TestDecoderRefusesIncompatibleSchema(t *testing.T) {
	url := registrytest.URL(t)
	telemetry := "refused-" + time.Now().Format("150405.000000000")
	body := `{"schema":"{\"type\":\"record\",\"name\":\"DeviceTelemetry\",\"namespace\":\"io.snotibridge\",\"fields\":[{\"name\":\"other\",\"type\":\"int\"}]}"}`
	resp, err := http.Post(url+"/subjects/"+telemetry+"-value/versions", "application/vnd.schemaregistry.v1+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registering the other schema: %d", resp.StatusCode)
	}
	cfg := Config{
		Base:           service.Base{Kafka: kafkatest.Config(t), ShutdownTimeout: 30 * time.Second},
		SchemaRegistry: schemaregistry.Config{URL: url, Timeout: 10 * time.Second},
		CodecsDir:      "codecs", TopicEvents: "unused", TopicTelemetry: telemetry, TopicDLQ: "unused-dlq",
		GroupID: "unused", BatchSize: 100,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run(ctx, cfg, zerolog.Nop())
	var inc *schemaregistry.IncompatibleError
	if !errors.As(err, &inc) || inc.Subject != telemetry+"-value" || !strings.Contains(err.Error(), telemetry+"-value") {
		t.Fatalf("run: %v, want an IncompatibleError naming %s-value", err, telemetry)
	}
}

// subjectLatestID waits for the decoder to register the subject and
// returns its latest id.
func subjectLatestID(t *testing.T, url, subject string, done <-chan error) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url + "/subjects/" + subject + "/versions/latest")
		if err == nil {
			var v struct {
				ID int `json:"id"`
			}
			ok := resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&v) == nil
			resp.Body.Close()
			if ok {
				return v.ID
			}
		}
		select {
		case err := <-done:
			t.Fatalf("decoder stopped before registering %s: %v", subject, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not registered within a minute", subject)
		}
	}
}
