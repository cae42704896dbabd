package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

const offsetsShowSynopsis = `offsets show --group G [--topic T[,T…]]

Prints the group's state and members, and per partition its committed
offset, the log start and end, and the lag: end - committed, or end - start
where the group has committed nothing (it starts at the earliest record).
Default topics: those the group committed offsets for or its members
subscribe to, every partition of each.`

const offsetsResetSynopsis = `offsets reset --group G [--topic T[,T…]]
       (--to-datetime RFC3339 | --to-earliest | --to-latest | --to-offset N) [--execute]

Moves a consumer group's committed offsets. Refused (exit 3) while the group
has active members: stop the service first (scale to 0). Without --execute
it prints the plan and exits 3 ("not executed"); with nothing to change it
exits 0. --to-datetime picks, per partition, the first record stamped at or
after the time (the log end when there is none). Default topics: those the
group has committed offsets for.`

func (a *app) offsetsShow(ctx context.Context, args []string) error {
	fs := a.flags("offsets show", offsetsShowSynopsis)
	group := fs.String("group", "", "consumer group (required)")
	topics := fs.String("topic", "", "topics, comma-separated (default: those the group committed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *group == "" {
		return usageErrorf("--group is required")
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	g, err := describeGroup(ctx, client, *group)
	if err != nil {
		return err
	}
	names := splitList(*topics)
	if len(names) == 0 {
		committed, err := committedOffsets(ctx, client, *group, nil)
		if err != nil {
			return err
		}
		names = groupTopics(g, committed)
	}
	parts := map[string][]int{}
	for _, t := range names {
		ps, err := replay.Partitions(ctx, client, t)
		if err != nil {
			return err
		}
		parts[t] = ps
	}
	lags, err := consume.GroupLag(ctx, client, *group, parts)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "group %s  state %s  members %d\n", *group, orDash(g.GroupState), len(g.Members))
	if len(names) == 0 {
		note := ""
		if g.GroupState == "Dead" {
			note = " (the group does not exist)"
		}
		fmt.Fprintf(a.errw, "group %s has no committed offsets and no members%s: name the topics with --topic\n", *group, note)
	}
	for _, m := range g.Members {
		fmt.Fprintf(a.out, "  member %s  client %s  host %s\n", m.MemberID, m.ClientID, m.ClientHost)
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tLOG-START\tLOG-END\tLAG")
	var total int64
	for _, l := range lags {
		total += l.Lag
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\n", l.Topic, l.Partition, offsetString(l.Committed), l.Start, l.End, l.Lag)
	}
	fmt.Fprintf(tw, "TOTAL\t\t\t\t\t%d\n", total)
	return tw.Flush()
}

// groupTopics is the sorted union of the topics the group committed
// offsets for and those its members subscribe to or are assigned: a group
// that has not committed yet still has all its lag.
func groupTopics(g kafka.DescribeGroupsResponseGroup, committed map[string]map[int]int64) []string {
	set := map[string]bool{}
	for t := range committed {
		set[t] = true
	}
	for _, m := range g.Members {
		for _, t := range m.MemberMetadata.Topics {
			set[t] = true
		}
		for _, t := range m.MemberAssignments.Topics {
			set[t.Topic] = true
		}
	}
	return sortedKeys(set)
}

func (a *app) offsetsReset(ctx context.Context, args []string) error {
	fs := a.flags("offsets reset", offsetsResetSynopsis)
	var (
		group    = fs.String("group", "", "consumer group (required)")
		topics   = fs.String("topic", "", "topics, comma-separated (default: those the group committed)")
		toTime   = fs.String("to-datetime", "", "RFC 3339 time: the first record stamped at or after it")
		earliest = fs.Bool("to-earliest", false, "the first retained record")
		latest   = fs.Bool("to-latest", false, "the log end (skip everything not yet consumed)")
		toOffset = fs.Int64("to-offset", -1, "this offset in every partition (clamped to the log)")
		execute  = fs.Bool("execute", false, "commit the new offsets (otherwise only print the plan)")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *group == "" {
		return usageErrorf("--group is required")
	}
	var target replay.Bound
	n := 0
	if *toTime != "" {
		b, err := replay.ParseBound(*toTime)
		if _, isTime := b.Time(); err != nil || !isTime {
			return usageErrorf("--to-datetime %q: want an RFC 3339 time, e.g. 2026-11-21T08:00:00Z", *toTime)
		}
		target, n = b, n+1
	}
	if *earliest {
		target, n = replay.Earliest(), n+1
	}
	if *latest {
		target, n = replay.Latest(), n+1
	}
	if *toOffset >= 0 {
		target, n = replay.AtOffset(*toOffset), n+1
	}
	if n != 1 {
		return usageErrorf("give exactly one of --to-datetime, --to-earliest, --to-latest, --to-offset")
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	if err := refuseActive(ctx, client, *group); err != nil {
		return err
	}
	committed, err := committedOffsets(ctx, client, *group, splitList(*topics))
	if err != nil {
		return err
	}
	if len(committed) == 0 {
		return usageErrorf("group %s has no committed offsets: name the topics with --topic", *group)
	}
	tw := tabwriter.NewWriter(a.errw, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "plan for group %s → %s\n", *group, target)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT\tTARGET\tCHANGE")
	commits := map[string][]kafka.OffsetCommit{}
	changes := 0
	for _, topic := range sortedKeys(committed) {
		plan, err := replay.Resolve(ctx, client, []string{topic}, target, replay.Latest())
		if err != nil {
			return err
		}
		for _, r := range plan.Ranges {
			cur, ok := committed[topic][r.Partition]
			if !ok {
				cur = -1
			}
			change := "none"
			if cur != r.Start {
				changes++
				change = fmt.Sprintf("%+d", r.Start-max(cur, 0))
				if cur < 0 {
					change = "set"
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", topic, r.Partition, offsetString(cur), r.Start, change)
			commits[topic] = append(commits[topic], kafka.OffsetCommit{Partition: r.Partition, Offset: r.Start})
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if changes == 0 {
		fmt.Fprintln(a.errw, "nothing to change")
		return nil
	}
	if !*execute {
		return refusedf("not executed: %d partitions would move; add --execute to commit", changes)
	}
	// Check again just before committing; the broker also rejects a
	// generation-less commit to a group that has members.
	if err := refuseActive(ctx, client, *group); err != nil {
		return err
	}
	resp, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: *group, GenerationID: -1, Topics: commits})
	if err != nil {
		return fmt.Errorf("committing offsets of %s: %w", *group, err)
	}
	var errs []error
	for topic, parts := range resp.Topics {
		for _, p := range parts {
			if p.Error != nil {
				errs = append(errs, fmt.Errorf("committing %s/%d: %w", topic, p.Partition, p.Error))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "group %s: %d partitions moved\n", *group, changes)
	return nil
}

// refuseActive returns a refusal when group has members: offsets of a
// running consumer must not move under it.
func refuseActive(ctx context.Context, client *kafka.Client, group string) error {
	g, err := describeGroup(ctx, client, group)
	if err != nil {
		return err
	}
	if len(g.Members) > 0 {
		var who []string
		for _, m := range g.Members {
			who = append(who, m.ClientID+"@"+m.ClientHost)
		}
		return refusedf("group %s has %d active members (%s): stop its consumers first", group, len(g.Members), strings.Join(who, ", "))
	}
	return nil
}

func describeGroup(ctx context.Context, client *kafka.Client, group string) (kafka.DescribeGroupsResponseGroup, error) {
	resp, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return kafka.DescribeGroupsResponseGroup{}, fmt.Errorf("describing group %s: %w", group, err)
	}
	for _, g := range resp.Groups {
		if g.GroupID == group {
			if g.Error != nil {
				return g, fmt.Errorf("describing group %s: %w", group, g.Error)
			}
			return g, nil
		}
	}
	return kafka.DescribeGroupsResponseGroup{GroupID: group}, nil
}

// committedOffsets returns the group's committed offset per topic and
// partition (-1: none). With topics given, every partition of each is
// listed; otherwise the topics the group has committed offsets for.
func committedOffsets(ctx context.Context, client *kafka.Client, group string, topics []string) (map[string]map[int]int64, error) {
	req := &kafka.OffsetFetchRequest{GroupID: group}
	if len(topics) > 0 {
		req.Topics = map[string][]int{}
		for _, t := range topics {
			parts, err := replay.Partitions(ctx, client, t)
			if err != nil {
				return nil, err
			}
			req.Topics[t] = parts
		}
	}
	resp, err := client.OffsetFetch(ctx, req)
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	out := map[string]map[int]int64{}
	for topic, parts := range resp.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return nil, fmt.Errorf("fetching offsets of group %s, %s/%d: %w", group, topic, p.Partition, p.Error)
			}
			if len(topics) == 0 && p.CommittedOffset < 0 {
				continue
			}
			if out[topic] == nil {
				out[topic] = map[int]int64{}
			}
			out[topic][p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

func sortedKeys[K string | int, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func offsetString(o int64) string {
	if o < 0 {
		return "-"
	}
	return fmt.Sprint(o)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
