package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// groups are the consumer groups of the pipeline and what each reads.
var groups = []struct {
	name   string
	topics []string
}{
	{"decoder", []string{topicEvents}},
	{"enos", []string{topicTelemetry, topicEvents}},
	{"energisme", []string{topicEvents}},
	{"energisme-files", []string{topicTelemetry}},
}

// kafkaClient is a client of the cluster that does not cache metadata for
// long (leaders move under the chaos).
func (s *stack) kafkaClient() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(strings.Split(s.brokers, ",")...), Timeout: 10 * time.Second,
		Transport: &kafka.Transport{MetadataTTL: time.Second}}
}

// partitions lists the topic's partition ids.
func partitions(ctx context.Context, c *kafka.Client, topic string) ([]int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %+v", topic, md.Topics)
	}
	var out []int
	for _, p := range md.Topics[0].Partitions {
		out = append(out, p.ID)
	}
	return out, nil
}

// endOffsets is the log end offset of each partition of topic.
func endOffsets(ctx context.Context, c *kafka.Client, topic string) (map[int]int64, error) {
	ps, err := partitions(ctx, c, topic)
	if err != nil {
		return nil, err
	}
	var req []kafka.OffsetRequest
	for _, p := range ps {
		req = append(req, kafka.LastOffsetOf(p))
	}
	resp, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.LastOffset
	}
	if len(out) != len(ps) {
		return nil, fmt.Errorf("end offsets of %d of %d partitions of %s", len(out), len(ps), topic)
	}
	return out, nil
}

// lags is each group's lag: records of its topics not committed yet. The
// topics' end offsets are read before the groups' commits, the events
// topic before the telemetry topic, so zero everywhere means drained: the
// decoder commits only what it has written to the telemetry topic.
func lags(ctx context.Context, c *kafka.Client) (map[string]int64, error) {
	out := map[string]int64{}
	for _, topic := range []string{topicEvents, topicTelemetry} {
		ends, err := endOffsets(ctx, c, topic)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			reads := false
			for _, t := range g.topics {
				reads = reads || t == topic
			}
			if !reads {
				continue
			}
			ps := make([]int, 0, len(ends))
			for p := range ends {
				ps = append(ps, p)
			}
			of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: g.name, Topics: map[string][]int{topic: ps}})
			if err == nil {
				err = of.Error
			}
			if err != nil {
				return nil, fmt.Errorf("offsets of group %s: %w", g.name, err)
			}
			committed := map[int]int64{}
			for _, p := range of.Topics[topic] {
				if p.Error != nil {
					return nil, fmt.Errorf("offsets of group %s on %s/%d: %w", g.name, topic, p.Partition, p.Error)
				}
				committed[p.Partition] = max(p.CommittedOffset, 0)
			}
			for p, end := range ends {
				out[g.name] += end - committed[p] // a group with no commit lags by everything
			}
		}
	}
	return out, nil
}

// lagMonitor samples the groups' lags every second and keeps each one's
// maximum.
type lagMonitor struct {
	mu   sync.Mutex
	max  map[string]int64
	errs int
}

func (s *stack) monitorLag(ctx context.Context) *lagMonitor {
	m := &lagMonitor{max: map[string]int64{}}
	c := s.kafkaClient()
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			l, err := lags(rctx, c)
			cancel()
			m.mu.Lock()
			if err != nil {
				m.errs++ // a node down or a leader moving: the next sample
			}
			for g, v := range l {
				m.max[g] = max(m.max[g], v)
			}
			m.mu.Unlock()
		}
	}()
	return m
}

func (m *lagMonitor) snapshot() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for k, v := range m.max {
		out[k] = v
	}
	return out
}
