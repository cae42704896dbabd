package topics

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/segmentio/kafka-go"
)

// Offsets are offsets per topic and partition.
type Offsets map[string]map[int]int64

// Topics lists the topics of o, sorted.
func (o Offsets) Topics() []string {
	out := make([]string, 0, len(o))
	for t := range o {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ActiveError refuses to move the offsets of a group that has members:
// offsets of a running consumer must not move under it.
type ActiveError struct {
	Group   string
	Members []kafka.DescribeGroupsResponseMember
}

func (e *ActiveError) Error() string {
	who := make([]string, len(e.Members))
	for i, m := range e.Members {
		who[i] = m.ClientID + "@" + m.ClientHost
	}
	return fmt.Sprintf("group %s has %d active members (%s): stop its consumers first", e.Group, len(e.Members), strings.Join(who, ", "))
}

// DescribeGroup describes one consumer group. A group the broker does not
// list comes back with only its id (a group that never existed is listed
// by most brokers, with state Dead).
func DescribeGroup(ctx context.Context, admin Admin, group string) (kafka.DescribeGroupsResponseGroup, error) {
	resp, err := admin.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
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

// RefuseActive returns an *ActiveError when group has members.
func RefuseActive(ctx context.Context, admin Admin, group string) error {
	g, err := DescribeGroup(ctx, admin, group)
	if err != nil {
		return err
	}
	if len(g.Members) > 0 {
		return &ActiveError{Group: group, Members: g.Members}
	}
	return nil
}

// Committed returns the group's committed offset per topic and partition.
// With topics given, every partition of each is listed (-1: nothing
// committed); otherwise only the partitions the group has committed.
func Committed(ctx context.Context, admin Admin, group string, topics []string) (Offsets, error) {
	req := &kafka.OffsetFetchRequest{GroupID: group}
	if len(topics) > 0 {
		parts, err := PartitionsOf(ctx, admin, topics)
		if err != nil {
			return nil, err
		}
		req.Topics = parts
	}
	resp, err := admin.OffsetFetch(ctx, req)
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	out := Offsets{}
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

// GroupTopics is the sorted union of the topics the group committed
// offsets for and those its members subscribe to or are assigned: a group
// that has not committed yet still has all its lag.
func GroupTopics(g kafka.DescribeGroupsResponseGroup, committed Offsets) []string {
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
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
