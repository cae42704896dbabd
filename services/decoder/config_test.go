package main

import (
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestConfigErrorsInOrder: every problem is reported, each naming its
// variable, in the same order on every run.
func TestConfigErrorsInOrder(t *testing.T) {
	want := strings.Join([]string{
		`TOPIC_DLQ="a" and TOPIC_DECODER_DLQ="b" disagree: they name the same setting; set one of them, or both to the same value`,
		"TOPIC_EVENTS is empty: set it or leave it unset for the default",
		"TOPIC_TELEMETRY is empty: set it or leave it unset for the default",
		"GROUP_ID is empty: set it or leave it unset for the default",
		"DECODER_BATCH_SIZE=0: must be 1..10000",
	}, "\n")
	for range 20 { // a map would reorder them within a few runs
		c := Config{TopicDLQ: "a", TopicDecoderDLQ: "b"}
		if err := c.Validate(); err == nil || err.Error() != want {
			t.Fatalf("Validate =\n%v\nwant\n%s", err, want)
		}
	}
}

// TestEnvConfig: the environment turns into the typed configuration, the
// shared variables included, and a problem names the variable.
func TestEnvConfig(t *testing.T) {
	testkit.Unsetenv(t, "CODECS_DIR", "KAFKA_BROKERS", "HTTP_ADDR", "LOG_LEVEL", "TOPIC_DLQ", "TOPIC_DECODER_DLQ", "GROUP_ID", "DECODER_BATCH_SIZE", "DECODER_BATCH_LINGER", "SHUTDOWN_TIMEOUT")
	t.Setenv("CODECS_DIR", t.TempDir())
	t.Setenv("KAFKA_BROKERS", "k1:9092,k2:9092")
	t.Setenv("HTTP_ADDR", "127.0.0.1:9000")
	var e environ
	if err := config.Load(&e); err != nil {
		t.Fatal(err)
	}
	c := e.config()
	if strings.Join(c.Kafka.Addrs(), ",") != "k1:9092,k2:9092" || c.HTTP.Addr != "127.0.0.1:9000" || c.Log.Level != "info" ||
		c.ShutdownTimeout.String() != "30s" || c.TopicDLQ != "decoder.dlq.v1" || c.GroupID != "decoder" || c.BatchSize != 1000 || c.BatchLinger != time.Millisecond {
		t.Errorf("config = %+v", c)
	}

	t.Setenv("KAFKA_BROKERS", "nohost")
	t.Setenv("DECODER_BATCH_SIZE", "0")
	t.Setenv("DECODER_BATCH_LINGER", "-1ms")
	err := config.Load(&environ{})
	for _, w := range []string{`KAFKA_BROKERS entry "nohost": must be host:port`, "DECODER_BATCH_SIZE=0: must be 1..10000", "DECODER_BATCH_LINGER=-1ms: must be 0 (none) up to 20ms"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Load error %v lacks %q", err, w)
		}
	}
}
