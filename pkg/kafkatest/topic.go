package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Topic creates a topic with a unique name derived from the test's name and
// the given number of partitions (and topic settings, if any) on brokers,
// waits until every partition has a leader, and deletes it when the test
// ends.
func Topic(tb testing.TB, brokers []string, partitions int, configs ...kafka.ConfigEntry) string {
	tb.Helper()
	name := uniqueName(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := CreateTopic(ctx, brokers, name, partitions, configs...); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
		// Best effort: a test may have killed its broker.
		_, _ = client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{name}})
	})
	return name
}

// uniqueName is a topic name derived from the test's name, with a random
// suffix.
func uniqueName(tb testing.TB) string {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := unsafeChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 150 {
		name = name[:150]
	}
	return strings.ToLower(name) + "-" + hex.EncodeToString(suffix[:])
}

// CreateTopic creates name explicitly (replication 1, the given topic
// settings) and waits until every partition has a leader, so that writes
// succeed right away.
func CreateTopic(ctx context.Context, brokers []string, name string, partitions int, configs ...kafka.ConfigEntry) error {
	spec := topics.Spec{Name: name, Partitions: partitions, ReplicationFactor: 1}
	if len(configs) > 0 {
		spec.Other = map[string]string{}
		for _, c := range configs {
			spec.Other[c.ConfigName] = c.ConfigValue
		}
	}
	return createTopic(ctx, brokers, spec)
}

func createTopic(ctx context.Context, brokers []string, spec topics.Spec) error {
	// A transport of its own with a short metadata TTL: the default one
	// caches metadata for seconds and would hide the new topic's leaders.
	tr := &kafka.Transport{MetadataTTL: 50 * time.Millisecond}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second, Transport: tr}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := topics.Create(ctx, client, spec)
		if err == nil || errors.Is(err, kafka.TopicAlreadyExists) {
			break
		}
		// A broker just started, or busy on a loaded machine, may not have
		// its controller ready yet: that passes.
		if !errors.Is(err, kafka.BrokerNotAvailable) && !errors.Is(err, kafka.NotController) && !errors.Is(err, kafka.RequestTimedOut) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("creating topic %s: %w (last error: %v)", spec.Name, ctx.Err(), err)
		case <-tick.C:
		}
	}
	return topics.WaitReady(ctx, client, spec.Name, spec.Partitions)
}
