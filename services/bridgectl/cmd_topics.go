package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
)

const topicsEnsureSynopsis = `topics ensure [--partitions N] [--replication-factor N] [--min-insync-replicas N]
       [--max-message-bytes N] [--topics T,…] [--strict]

Creates every topic the pipeline needs (TOPIC_* names) that does not exist,
with the given partitions, replication factor, min.insync.replicas and
max.message.bytes (the largest record a topic takes: keep it at least twice
the ingest's SNOTI_MAX_LINE_BYTES), and reports existing topics whose
settings differ. It never changes an existing
topic: adding partitions moves keys (devices) to other partitions and breaks
per-device order, so that is an operator's decision. Idempotent. Exit 0, or
1 with --strict when a topic differs.`

// topicStatus is what topics ensure found for one topic.
type topicStatus struct {
	name, action, detail string
}

func (a *app) topicsEnsure(ctx context.Context, args []string) error {
	fs := a.flags("topics ensure", topicsEnsureSynopsis)
	var (
		partitions = fs.Int("partitions", a.cfg.Partitions, "partitions of a new topic (TOPIC_PARTITIONS)")
		rf         = fs.Int("replication-factor", a.cfg.ReplicationFactor, "replication factor (TOPIC_REPLICATION_FACTOR); 1 for a single local broker")
		minISR     = fs.Int("min-insync-replicas", a.cfg.MinInsyncReplicas, "min.insync.replicas (TOPIC_MIN_INSYNC_REPLICAS); with acks=all, RF-1 tolerates one broker down")
		maxMsg     = fs.Int("max-message-bytes", a.cfg.MaxMessageBytes, "max.message.bytes (TOPIC_MAX_MESSAGE_BYTES); at least twice the ingest's SNOTI_MAX_LINE_BYTES")
		only       = fs.String("topics", "", "only these topics, comma-separated (default: every pipeline topic)")
		strict     = fs.Bool("strict", false, "exit 1 when an existing topic differs")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *partitions < 1 || *rf < 1 || *minISR < 1 || *minISR > *rf {
		return usageErrorf("--partitions and --replication-factor must be ≥ 1, --min-insync-replicas 1..replication factor")
	}
	if *maxMsg < minMaxMessageBytes {
		return usageErrorf("--max-message-bytes=%d: must be at least %d (1 MiB)", *maxMsg, minMaxMessageBytes)
	}
	topics := a.cfg.Topics.All()
	if *only != "" {
		topics = splitList(*only)
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("reading topic metadata: %w", err)
	}
	existing := map[string]kafka.Topic{}
	for _, t := range md.Topics {
		if t.Error == nil {
			existing[t.Name] = t
		} else if !errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			return fmt.Errorf("reading metadata of %s: %w", t.Name, t.Error)
		}
	}
	var create []kafka.TopicConfig
	var status []topicStatus
	var compare []string
	for _, name := range topics {
		if _, ok := existing[name]; ok {
			compare = append(compare, name)
			continue
		}
		create = append(create, kafka.TopicConfig{
			Topic: name, NumPartitions: *partitions, ReplicationFactor: *rf,
			ConfigEntries: []kafka.ConfigEntry{
				{ConfigName: "min.insync.replicas", ConfigValue: strconv.Itoa(*minISR)},
				{ConfigName: kafkaconf.MaxMessageBytesKey, ConfigValue: strconv.Itoa(*maxMsg)},
			},
		})
	}
	if len(create) > 0 {
		resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: create})
		if err != nil {
			return fmt.Errorf("creating topics: %w", err)
		}
		var errs []error
		for _, c := range create {
			switch err := resp.Errors[c.Topic]; {
			case err == nil:
				status = append(status, topicStatus{c.Topic, "created", fmt.Sprintf("partitions=%d replication=%d min.insync.replicas=%d max.message.bytes=%d", *partitions, *rf, *minISR, *maxMsg)})
			case errors.Is(err, kafka.TopicAlreadyExists):
				compare = append(compare, c.Topic) // created meanwhile by someone else
			default:
				errs = append(errs, fmt.Errorf("creating %s: %w", c.Topic, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	differ := 0
	if len(compare) > 0 {
		found, err := a.describeTopics(ctx, client, compare)
		if err != nil {
			return err
		}
		for _, name := range compare {
			f := found[name]
			var diffs []string
			if f.partitions != *partitions {
				diffs = append(diffs, fmt.Sprintf("partitions %d (want %d)", f.partitions, *partitions))
			}
			if f.rf != *rf {
				diffs = append(diffs, fmt.Sprintf("replication %d (want %d)", f.rf, *rf))
			}
			if f.minISR != strconv.Itoa(*minISR) {
				diffs = append(diffs, fmt.Sprintf("min.insync.replicas %s (want %d)", f.minISR, *minISR))
			}
			if f.maxMessageBytes != strconv.Itoa(*maxMsg) {
				diffs = append(diffs, fmt.Sprintf("max.message.bytes %s (want %d)", f.maxMessageBytes, *maxMsg))
			}
			if len(diffs) == 0 {
				status = append(status, topicStatus{name, "ok", fmt.Sprintf("partitions=%d replication=%d min.insync.replicas=%s max.message.bytes=%s", f.partitions, f.rf, f.minISR, f.maxMessageBytes)})
				continue
			}
			differ++
			status = append(status, topicStatus{name, "differs", strings.Join(diffs, "; ") + " (not changed)"})
		}
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	for _, name := range topics {
		for _, s := range status {
			if s.name == name {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.action, s.name, s.detail)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if differ > 0 && *strict {
		return fmt.Errorf("%d topics differ from the wanted settings (existing topics are never changed)", differ)
	}
	return nil
}

type topicFound struct {
	partitions, rf          int
	minISR, maxMessageBytes string
}

// describeTopics reads partitions, replication, min.insync.replicas and
// max.message.bytes.
func (a *app) describeTopics(ctx context.Context, client *kafka.Client, names []string) (map[string]topicFound, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, fmt.Errorf("reading topic metadata: %w", err)
	}
	out := map[string]topicFound{}
	for _, t := range md.Topics {
		f := topicFound{partitions: len(t.Partitions)}
		if len(t.Partitions) > 0 {
			f.rf = len(t.Partitions[0].Replicas)
		}
		out[t.Name] = f
	}
	cfgs, err := kafkaconf.TopicConfigs(ctx, client, names, "min.insync.replicas", kafkaconf.MaxMessageBytesKey)
	if err != nil {
		return nil, err
	}
	for name, c := range cfgs {
		f := out[name]
		f.minISR, f.maxMessageBytes = c["min.insync.replicas"], c[kafkaconf.MaxMessageBytesKey]
		out[name] = f
	}
	return out, nil
}
