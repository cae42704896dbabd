package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

// TestTopicsEnsure creates the pipeline's topics, finds them on a second
// run, and reports (never changes) a topic that differs.
func TestTopicsEnsure(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	var id [4]byte
	_, _ = rand.Read(id[:])
	p := "ensure-" + hex.EncodeToString(id[:]) + "."
	ta.cfg.Topics = Topics{Events: p + "events", Invalid: p + "invalid", Telemetry: p + "telemetry",
		DecoderDLQ: p + "decoder.dlq", EnosDLQ: p + "enos.dlq", EnergismeDLQ: p + "energisme.dlq",
		Commands: p + "commands", CommandResults: p + "command-results", CommandsDLQ: p + "commands.dlq"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client, _ := ta.cfg.Kafka.Client()
		_, _ = client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: ta.cfg.Topics.All()})
	})

	if code := ta.run(ctx, t, "topics", "ensure", "--partitions", "3"); code != exitOK {
		t.Fatalf("first run: exit %d", code)
	}
	want := len(ta.cfg.Topics.All()) // 9: events, invalid, telemetry, three DLQs, commands, command results, commands DLQ
	if n := strings.Count(ta.out.String(), "created"); n != want {
		t.Errorf("first run created %d topics, want %d", n, want)
	}
	client, _ := ta.cfg.Kafka.Client()
	found, err := topics.Describe(ctx, client, ta.cfg.Topics.All())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		// max.message.bytes is set deliberately, not left at the broker's
		// ~1 MiB: the ingest's line cap (4 MiB) sits below half of it.
		if f.Partitions != 3 || f.ReplicationFactor != 1 || f.Configs[topics.MinInsyncReplicasKey] != "1" || f.Configs[topics.MaxMessageBytesKey] != "8388608" {
			t.Errorf("%s: %+v", f.Name, f)
		}
	}

	if code := ta.run(ctx, t, "topics", "ensure", "--partitions", "3"); code != exitOK {
		t.Fatalf("second run: exit %d", code)
	}
	if n := strings.Count(ta.out.String(), "ok "); n != want || strings.Contains(ta.out.String(), "created") {
		t.Errorf("second run is not a no-op:\n%s", ta.out)
	}

	if code := ta.run(ctx, t, "topics", "ensure", "--partitions", "6"); code != exitOK {
		t.Fatalf("differing run: exit %d", code)
	}
	if n := strings.Count(ta.out.String(), "differs"); n != want || !strings.Contains(ta.out.String(), "partitions 3 (want 6)") {
		t.Errorf("differences not reported:\n%s", ta.out)
	}
	if code := ta.run(ctx, t, "topics", "ensure", "--partitions", "3", "--max-message-bytes", "16777216"); code != exitOK {
		t.Fatalf("differing run: exit %d", code)
	}
	if n := strings.Count(ta.out.String(), "max.message.bytes 8388608 (want 16777216)"); n != want {
		t.Errorf("max.message.bytes difference not reported:\n%s", ta.out)
	}
	if code := ta.run(ctx, t, "topics", "ensure", "--max-message-bytes", "1000"); code != exitUsage {
		t.Errorf("--max-message-bytes below 1 MiB: exit %d, want %d", code, exitUsage)
	}
	if code := ta.run(ctx, t, "topics", "ensure", "--partitions", "6", "--strict"); code != exitFailure {
		t.Errorf("--strict with differences: exit %d, want %d", code, exitFailure)
	}
}
