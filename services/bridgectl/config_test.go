package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestConfigFromEnv: bridgectl reads the shared variables into the typed
// Kafka and logging configs, and an invalid environment is a usage error
// naming every variable.
func TestConfigFromEnv(t *testing.T) {
	testkit.Unsetenv(t, "KAFKA_BROKERS", "LOG_LEVEL", "LOG_FORMAT", "TOPIC_PARTITIONS", "TOPIC_DLQ", "TOPIC_ENOS_DLQ")
	t.Setenv("KAFKA_BROKERS", "k1:9092")
	t.Setenv("TOPIC_ENOS_DLQ", "enos.dlq.b")
	var e environ
	if err := config.Load(&e); err != nil {
		t.Fatal(err)
	}
	c := e.config()
	if c.Kafka.Addrs()[0] != "k1:9092" || c.Log.Level != "info" || c.Partitions != 6 || c.Topics.EnosDLQ != "enos.dlq.b" || c.Topics.DecoderDLQ != "decoder.dlq.v1" {
		t.Errorf("config = %+v", c)
	}
	if dlq, from, err := c.Topics.SinkDLQ("TOPIC_ENOS_DLQ", c.Topics.EnosDLQ); err != nil || dlq != "enos.dlq.b" || from != "TOPIC_ENOS_DLQ" {
		t.Errorf("SinkDLQ = %q from %q, %v", dlq, from, err)
	}

	t.Setenv("KAFKA_BROKERS", "nohost")
	t.Setenv("LOG_LEVEL", "loud")
	t.Setenv("TOPIC_PARTITIONS", "0")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"topics", "ensure"}, &stdout, &stderr); code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
	}
	for _, w := range []string{"invalid configuration", `KAFKA_BROKERS entry "nohost": must be host:port`, `LOG_LEVEL="loud"`, "TOPIC_PARTITIONS=0: must be ≥ 1"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
}
