package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/topics"
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
	only := fs.String("topic", "", "topics, comma-separated (default: those the group committed)")
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
	g, err := topics.DescribeGroup(ctx, client, *group)
	if err != nil {
		return err
	}
	names := splitList(*only)
	if len(names) == 0 {
		committed, err := topics.Committed(ctx, client, *group, nil)
		if err != nil {
			return err
		}
		names = topics.GroupTopics(g, committed)
	}
	parts, err := topics.PartitionsOf(ctx, client, names)
	if err != nil {
		return err
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

func (a *app) offsetsReset(ctx context.Context, args []string) error {
	fs := a.flags("offsets reset", offsetsResetSynopsis)
	group := fs.String("group", "", "consumer group (required)")
	only := fs.String("topic", "", "topics, comma-separated (default: those the group committed)")
	target := resetTargetFlags(fs)
	execute := fs.Bool("execute", false, "commit the new offsets (otherwise only print the plan)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *group == "" {
		return usageErrorf("--group is required")
	}
	to, err := target.bound()
	if err != nil {
		return err
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	resolve := func(ctx context.Context, topic string) (map[int]int64, error) {
		plan, err := replay.Resolve(ctx, client, []string{topic}, to, replay.Latest())
		if err != nil {
			return nil, err
		}
		out := make(map[int]int64, len(plan.Ranges))
		for _, r := range plan.Ranges {
			out[r.Partition] = r.Start
		}
		return out, nil
	}
	plan, err := topics.PlanReset(ctx, client, *group, splitList(*only), resolve)
	if err != nil {
		return resetError(err, *group)
	}
	tw := tabwriter.NewWriter(a.errw, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "plan for group %s → %s\n", *group, to)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT\tTARGET\tCHANGE")
	for _, m := range plan.Moves {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", m.Topic, m.Partition, offsetString(m.Current), m.Target, m.Change())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	changes := plan.Changes()
	if changes == 0 {
		fmt.Fprintln(a.errw, "nothing to change")
		return nil
	}
	if !*execute {
		return refusedf("not executed: %d partitions would move; add --execute to commit", changes)
	}
	if err := plan.Apply(ctx, client); err != nil {
		return resetError(err, *group)
	}
	fmt.Fprintf(a.out, "group %s: %d partitions moved\n", *group, changes)
	return nil
}

// resetTarget holds the flags naming where offsets reset moves a group.
type resetTarget struct {
	toTime           *string
	earliest, latest *bool
	toOffset         *int64
}

func resetTargetFlags(fs *flag.FlagSet) resetTarget {
	return resetTarget{
		toTime:   fs.String("to-datetime", "", "RFC 3339 time: the first record stamped at or after it"),
		earliest: fs.Bool("to-earliest", false, "the first retained record"),
		latest:   fs.Bool("to-latest", false, "the log end (skip everything not yet consumed)"),
		toOffset: fs.Int64("to-offset", -1, "this offset in every partition (clamped to the log)"),
	}
}

// bound is the one target given, or a usage error.
func (t resetTarget) bound() (replay.Bound, error) {
	var target replay.Bound
	n := 0
	if *t.toTime != "" {
		b, err := replay.ParseBound(*t.toTime)
		if _, isTime := b.Time(); err != nil || !isTime {
			return target, usageErrorf("--to-datetime %q: want an RFC 3339 time, e.g. 2026-11-21T08:00:00Z", *t.toTime)
		}
		target, n = b, n+1
	}
	if *t.earliest {
		target, n = replay.Earliest(), n+1
	}
	if *t.latest {
		target, n = replay.Latest(), n+1
	}
	if *t.toOffset >= 0 {
		target, n = replay.AtOffset(*t.toOffset), n+1
	}
	if n != 1 {
		return target, usageErrorf("give exactly one of --to-datetime, --to-earliest, --to-latest, --to-offset")
	}
	return target, nil
}

// resetError gives a refusal (active members) exit 3 and a group without
// commits exit 2.
func resetError(err error, group string) error {
	var active *topics.ActiveError
	switch {
	case errors.As(err, &active):
		return &exitError{code: exitRefused, err: err}
	case errors.Is(err, topics.ErrNoCommits):
		return usageErrorf("group %s has no committed offsets: name the topics with --topic", group)
	}
	return err
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
