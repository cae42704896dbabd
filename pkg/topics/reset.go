package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/segmentio/kafka-go"
)

// ErrNoCommits: a reset of a group that has committed nothing, with no
// topics named, has nothing to start from.
var ErrNoCommits = errors.New("the group has no committed offsets")

// A Resolver gives the target offset of each partition of topic (e.g. the
// first record at or after a time, clamped to the log).
type Resolver func(ctx context.Context, topic string) (map[int]int64, error)

// Move is one partition of a reset.
type Move struct {
	Topic     string
	Partition int
	Current   int64 // the committed offset; -1 when there is none
	Target    int64
}

// Moves reports whether the partition's committed offset changes.
func (m Move) Moves() bool { return m.Current != m.Target }

// Change reads "none", "set" (nothing committed yet) or the signed
// distance, "+3", "-12".
func (m Move) Change() string {
	switch {
	case !m.Moves():
		return "none"
	case m.Current < 0:
		return "set"
	}
	return fmt.Sprintf("%+d", m.Target-m.Current)
}

// ResetPlan is a planned move of a group's committed offsets, shown before
// it is applied.
type ResetPlan struct {
	Group string
	Moves []Move // by topic, then partition
}

// Changes is the number of partitions whose offset moves.
func (p ResetPlan) Changes() int {
	n := 0
	for _, m := range p.Moves {
		if m.Moves() {
			n++
		}
	}
	return n
}

// NewResetPlan moves every partition of target to its target offset;
// current holds the committed offsets (a partition missing from it has
// none).
func NewResetPlan(group string, current, target Offsets) ResetPlan {
	p := ResetPlan{Group: group}
	for _, topic := range target.Topics() {
		parts := make([]int, 0, len(target[topic]))
		for part := range target[topic] {
			parts = append(parts, part)
		}
		sort.Ints(parts)
		for _, part := range parts {
			cur, ok := current[topic][part]
			if !ok {
				cur = -1
			}
			p.Moves = append(p.Moves, Move{Topic: topic, Partition: part, Current: cur, Target: target[topic][part]})
		}
	}
	return p
}

// PlanReset plans moving group's committed offsets on topics (default:
// those it has committed offsets for) to what resolve gives. It refuses,
// with an *ActiveError, a group that has members, and returns ErrNoCommits
// when no topic is named and the group has committed nothing.
func PlanReset(ctx context.Context, admin Admin, group string, topics []string, resolve Resolver) (ResetPlan, error) {
	if err := RefuseActive(ctx, admin, group); err != nil {
		return ResetPlan{}, err
	}
	current, err := Committed(ctx, admin, group, topics)
	if err != nil {
		return ResetPlan{}, err
	}
	if len(current) == 0 {
		return ResetPlan{}, fmt.Errorf("group %s: %w", group, ErrNoCommits)
	}
	target := Offsets{}
	for _, topic := range current.Topics() {
		if target[topic], err = resolve(ctx, topic); err != nil {
			return ResetPlan{}, err
		}
	}
	return NewResetPlan(group, current, target), nil
}

// Apply commits every partition of the plan at its target. It checks
// again, just before committing, that the group has no members (an
// *ActiveError otherwise); the broker also rejects a generation-less
// commit to a group that has members.
func (p ResetPlan) Apply(ctx context.Context, admin Admin) error {
	if err := RefuseActive(ctx, admin, p.Group); err != nil {
		return err
	}
	commits := map[string][]kafka.OffsetCommit{}
	for _, m := range p.Moves {
		commits[m.Topic] = append(commits[m.Topic], kafka.OffsetCommit{Partition: m.Partition, Offset: m.Target})
	}
	resp, err := admin.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: p.Group, GenerationID: -1, Topics: commits})
	if err != nil {
		return fmt.Errorf("committing offsets of %s: %w", p.Group, err)
	}
	var errs []error
	for topic, parts := range resp.Topics {
		for _, part := range parts {
			if part.Error != nil {
				errs = append(errs, fmt.Errorf("committing %s/%d: %w", topic, part.Partition, part.Error))
			}
		}
	}
	return errors.Join(errs...)
}
