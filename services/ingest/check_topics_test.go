package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
)

// The ingest refuses to start when a topic is missing (it never
// auto-creates), and starts with a warning when Kafka cannot be reached.
func TestCheckTopicsMissingOrUnreachable(t *testing.T) {
	var cfg Config
	cfg.Kafka = kafkatest.Config(t)
	cfg.TopicEvents = kafkatest.Topic(t, cfg.Kafka.Brokers, 1)
	cfg.TopicInvalid = cfg.TopicEvents + ".missing"
	var logs bytes.Buffer
	_, reachable, err := checkTopics(context.Background(), kafkaClient(t, cfg), cfg, zerolog.New(&logs))
	if !errors.Is(err, kafka.UnknownTopicOrPartition) || !strings.Contains(err.Error(), cfg.TopicInvalid) || !strings.Contains(err.Error(), "bridgectl topics ensure") {
		t.Errorf("missing invalid topic: %v, want an error naming it and the fix", err)
	}
	if !reachable {
		t.Error("missing invalid topic: Kafka said unreachable")
	}

	cfg.Kafka.Brokers = []string{"127.0.0.1:1"} // nothing listens
	logs.Reset()
	n, reachable, err := checkTopics(context.Background(), kafkaClient(t, cfg), cfg, zerolog.New(&logs))
	if err != nil || n != 0 || reachable || !strings.Contains(logs.String(), "Kafka not reachable at start") {
		t.Errorf("unreachable Kafka: %d, %v, logs %s: want 0, unreachable, nil and a warning", n, err, logs.String())
	}
}

// kafkaClient is the admin client of cfg's brokers.
func kafkaClient(t *testing.T, cfg Config) *kafka.Client {
	t.Helper()
	c, err := cfg.Kafka.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
