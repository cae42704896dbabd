package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/snotibridge/snotibridge/pkg/topics"
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
	if *maxMsg < topics.MinMaxMessageBytes {
		return usageErrorf("--max-message-bytes=%d: must be at least %d (1 MiB)", *maxMsg, topics.MinMaxMessageBytes)
	}
	names := a.cfg.Topics.All()
	if *only != "" {
		names = splitList(*only)
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	want := topics.Spec{Partitions: *partitions, ReplicationFactor: *rf, MinInsyncReplicas: *minISR, MaxMessageBytes: *maxMsg}
	results, err := topics.Ensure(ctx, client, want.Named(names...))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	differ := 0
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Action, r.Spec.Name, ensureDetail(r))
		if r.Action == topics.Differs {
			differ++
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

// ensureDetail is the settings of a created or matching topic, or how it
// differs.
func ensureDetail(r topics.Result) string {
	switch r.Action {
	case topics.Created:
		s := r.Spec
		return fmt.Sprintf("partitions=%d replication=%d min.insync.replicas=%d max.message.bytes=%d", s.Partitions, s.ReplicationFactor, s.MinInsyncReplicas, s.MaxMessageBytes)
	case topics.Differs:
		diffs := make([]string, len(r.Diffs))
		for i, d := range r.Diffs {
			diffs[i] = d.String()
		}
		return strings.Join(diffs, "; ") + " (not changed)"
	}
	f := r.Found
	return fmt.Sprintf("partitions=%d replication=%d min.insync.replicas=%s max.message.bytes=%s", f.Partitions, f.ReplicationFactor, f.Configs[topics.MinInsyncReplicasKey], f.Configs[topics.MaxMessageBytesKey])
}
