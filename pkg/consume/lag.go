package consume

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// Admin is the part of *kafka.Client that lag needs.
type Admin interface {
	DescribeGroups(ctx context.Context, req *kafka.DescribeGroupsRequest) (*kafka.DescribeGroupsResponse, error)
	OffsetFetch(ctx context.Context, req *kafka.OffsetFetchRequest) (*kafka.OffsetFetchResponse, error)
	ListOffsets(ctx context.Context, req *kafka.ListOffsetsRequest) (*kafka.ListOffsetsResponse, error)
}

// PartitionLag is one partition's position in a consumer group.
type PartitionLag struct {
	Topic     string
	Partition int
	Committed int64 // the group's committed offset; -1 when it has none
	Start     int64 // first offset in the log
	End       int64 // log end offset (the next offset to be written)
	// Lag is End minus Committed, or minus Start when nothing is committed
	// (a group with no commits starts at the earliest record): the records
	// the group has not finished.
	Lag int64
}

// GroupLag returns the lag of group on the given partitions, ordered by
// topic and partition. It reads committed offsets, not what a consumer has
// fetched, so it stays true while a consumer holds a batch for a failing
// sink and fetches nothing.
func GroupLag(ctx context.Context, admin Admin, group string, parts map[string][]int) ([]PartitionLag, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	of, err := admin.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err == nil {
		err = of.Error
	}
	if err != nil {
		return nil, fmt.Errorf("fetching committed offsets of group %s: %w", group, err)
	}
	// Two requests: a partition may appear only once per request.
	firstReq := map[string][]kafka.OffsetRequest{}
	lastReq := map[string][]kafka.OffsetRequest{}
	for topic, ps := range parts {
		for _, p := range ps {
			firstReq[topic] = append(firstReq[topic], kafka.FirstOffsetOf(p))
			lastReq[topic] = append(lastReq[topic], kafka.LastOffsetOf(p))
		}
	}
	firsts, err := listOffsets(ctx, admin, firstReq)
	if err != nil {
		return nil, err
	}
	lasts, err := listOffsets(ctx, admin, lastReq)
	if err != nil {
		return nil, err
	}
	committed := map[topicPartition]int64{}
	for topic, ps := range of.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("fetching committed offset of group %s on %s/%d: %w", group, topic, p.Partition, p.Error)
			}
			committed[topicPartition{topic, p.Partition}] = p.CommittedOffset
		}
	}
	var out []PartitionLag
	for topic, ps := range parts {
		for _, p := range ps {
			k := topicPartition{topic, p}
			c, ok := committed[k]
			if !ok {
				c = -1
			}
			pl := PartitionLag{Topic: topic, Partition: p, Committed: c, Start: firsts[k].FirstOffset, End: lasts[k].LastOffset}
			from := pl.Start
			if c >= 0 {
				from = max(c, pl.Start)
			}
			pl.Lag = max(0, pl.End-from)
			out = append(out, pl)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}

func listOffsets(ctx context.Context, admin Admin, req map[string][]kafka.OffsetRequest) (map[topicPartition]kafka.PartitionOffsets, error) {
	resp, err := admin.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, fmt.Errorf("listing offsets: %w", err)
	}
	out := map[topicPartition]kafka.PartitionOffsets{}
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("listing offsets of %s/%d: %w", topic, p.Partition, p.Error)
			}
			out[topicPartition{topic, p.Partition}] = p
		}
	}
	for topic, ps := range req {
		if len(out) == 0 && len(ps) > 0 {
			return nil, fmt.Errorf("listing offsets of %s: no answer", topic)
		}
	}
	return out, nil
}

// Assigned returns, from a DescribeGroups answer, the partitions assigned to
// the member whose client id is clientID, and whether the group is stable
// (while it rebalances, assignments are empty or stale).
func Assigned(g kafka.DescribeGroupsResponseGroup, clientID string) (parts map[string][]int, stable bool) {
	parts = map[string][]int{}
	for _, m := range g.Members {
		if m.ClientID != clientID {
			continue
		}
		for _, t := range m.MemberAssignments.Topics {
			parts[t.Topic] = append(parts[t.Topic], t.Partitions...)
		}
	}
	return parts, g.GroupState == "Stable"
}

// lagMonitor polls, every interval, the lag of the partitions this member
// owns and exports it as snotibridge_consumer_lag; the series of partitions
// it no longer owns are deleted. A poll is also how the runner knows Kafka
// is reachable: readiness follows the last poll.
type lagMonitor struct {
	admin    Admin
	group    string
	clientID string
	stage    string
	interval time.Duration
	gauge    *prometheus.GaugeVec
	log      zerolog.Logger

	owned map[topicPartition]struct{} // series exported; the poll loop only

	mu        sync.Mutex
	down      bool      // the last contact with Kafka failed
	downSince time.Time // first failure since the last success
	err       error     // the last failure
}

func (l *lagMonitor) run(ctx context.Context) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		l.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (l *lagMonitor) poll(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, max(l.interval, 5*time.Second))
	defer cancel()
	err := l.update(pctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		l.failed(err)
		return
	}
	l.reached()
}

func (l *lagMonitor) update(ctx context.Context) error {
	resp, err := l.admin.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{l.group}})
	if err != nil {
		return fmt.Errorf("describing group %s: %w", l.group, err)
	}
	var g kafka.DescribeGroupsResponseGroup
	for _, rg := range resp.Groups {
		if rg.GroupID == l.group {
			g = rg
		}
	}
	if g.Error != nil {
		return fmt.Errorf("describing group %s: %w", l.group, g.Error)
	}
	parts, stable := Assigned(g, l.clientID)
	if !stable {
		// Keep the partitions of the last stable generation while the group
		// rebalances; a stable group tells which ones are ours now.
		parts = map[string][]int{}
		for k := range l.owned {
			parts[k.topic] = append(parts[k.topic], k.partition)
		}
	}
	lags, err := GroupLag(ctx, l.admin, l.group, parts)
	if err != nil {
		return err
	}
	now := make(map[topicPartition]struct{}, len(lags))
	for _, pl := range lags {
		now[topicPartition{pl.Topic, pl.Partition}] = struct{}{}
		l.gauge.WithLabelValues(l.stage, pl.Topic, strconv.Itoa(pl.Partition)).Set(float64(pl.Lag))
	}
	for k := range l.owned {
		if _, ok := now[k]; !ok {
			l.gauge.DeleteLabelValues(l.stage, k.topic, strconv.Itoa(k.partition))
		}
	}
	l.owned = now
	return nil
}

// failed records that Kafka could not be reached (by a poll, or by the
// reader's fetch).
func (l *lagMonitor) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		l.down, l.downSince = true, time.Now()
	}
	l.err = err
}

// reached records a successful contact with Kafka (a poll, a fetch).
func (l *lagMonitor) reached() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}

// connected returns nil unless the last contact with Kafka failed; then it
// returns the failure and since when Kafka has been unreachable.
func (l *lagMonitor) connected() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		return nil
	}
	return fmt.Errorf("kafka unreachable for %s: %w", time.Since(l.downSince).Round(time.Second), l.err)
}

// stop deletes every series the monitor exported: a stopped consumer owns
// nothing.
func (l *lagMonitor) stop() {
	for k := range l.owned {
		l.gauge.DeleteLabelValues(l.stage, k.topic, strconv.Itoa(k.partition))
	}
	l.owned = nil
}
