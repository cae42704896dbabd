package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// TestTail prints records of several schemas as JSON lines decoded from
// Avro, and a line with the error for bytes that are not a record.
func TestTail(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	topic := kafkatest.Topic(t, ta.brokers, 2)
	var msgs []kafka.Message
	for i := 0; i < 6; i++ {
		msgs = append(msgs, event(t, codec, i, "pk", "device_online", nil))
	}
	tel, err := codec.Message("", []byte("dev1"), &records.DeviceTelemetry{
		EventID: "tel-1", ProductKey: "pk", DID: "dev1", Time: t0, ReceivedAt: t0, Source: "device_status_kv",
		Codec: "kv", Kind: "status", Points: []records.DataPoint{{Name: "voltage", Value: 230.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs = append(msgs, tel, kafka.Message{Key: []byte("dev2"), Value: []byte("not avro")})
	produce(ctx, t, ta, topic, msgs...)

	t.Run("all", func(t *testing.T) {
		if code := ta.run(ctx, t, "tail", "--topic", topic, "--from", "earliest", "--follow=false"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		lines := strings.Split(strings.TrimSpace(ta.out.String()), "\n")
		if len(lines) != 8 {
			t.Fatalf("%d lines, want 8", len(lines))
		}
		schemas := map[string]int{}
		for _, l := range lines {
			var r struct {
				Schema string
				Key    string
				Value  map[string]any
				Error  string
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("not JSON: %v: %s", err, l)
			}
			switch {
			case r.Error != "":
				schemas["error"]++
			case r.Schema == "SnotiEvent.v1" && r.Value["did"] == r.Key && strings.HasPrefix(r.Value["event_id"].(string), "ev-"):
				schemas[r.Schema]++
			case r.Schema == "DeviceTelemetry.v1" && r.Value["event_id"] == "tel-1":
				schemas[r.Schema]++
			default:
				t.Errorf("unexpected line %s", l)
			}
		}
		if schemas["SnotiEvent.v1"] != 6 || schemas["DeviceTelemetry.v1"] != 1 || schemas["error"] != 1 {
			t.Errorf("lines by schema %v", schemas)
		}
	})

	t.Run("filter and limit", func(t *testing.T) {
		if code := ta.run(ctx, t, "tail", "--topic", topic, "--from", "earliest", "--filter", "event_type=device_online", "--limit", "4"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if n := strings.Count(ta.out.String(), "\n"); n != 4 {
			t.Errorf("%d lines, want 4", n)
		}
	})

	t.Run("time range", func(t *testing.T) {
		from, to := t0.Add(2*time.Minute).Format(time.RFC3339), t0.Add(4*time.Minute).Format(time.RFC3339)
		if code := ta.run(ctx, t, "tail", "--topic", topic, "--from", from, "--to", to); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if n := strings.Count(ta.out.String(), "\n"); n != 2 || !strings.Contains(ta.out.String(), "ev-002") || !strings.Contains(ta.out.String(), "ev-003") {
			t.Errorf("want ev-002 and ev-003 only:\n%s", ta.out)
		}
	})
}
