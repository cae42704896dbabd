package kafkaconf

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/segmentio/kafka-go"
)

// WarmWriter makes w ready for its first writes to topics: through w's own
// Transport (the connection pool its writes use) it fetches the topics'
// metadata and opens a connection to the leader of each of their partitions
// (a ListOffsets of every partition, which kafka-go sends to its leader).
// Without it, a writer's first write waits for both, and a service that
// starts taking input before would make its first inputs pay for them.
//
// A partition whose leader is still being elected (a topic created a moment
// before, a broker restarting: LeaderNotAvailable, NotLeaderForPartition)
// is asked again, with a backoff from 50 ms to 1 s, until it has one. It
// returns once every partition answered, or with the first other error, or
// when ctx ends (the caller bounds the wait with ctx) with the last error
// seen. w.Transport must be set (NewWriter sets it), so that the connections
// opened are the ones the writes use.
func WarmWriter(ctx context.Context, w *kafka.Writer, topics ...string) error {
	if w.Transport == nil {
		return errors.New("warming a writer: its Transport is not set")
	}
	c := &kafka.Client{Addr: w.Addr, Transport: w.Transport}
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		last = warm(ctx, c, topics)
		if last != nil && !leaderPending(last) {
			return struct{}{}, backoff.Permanent(last)
		}
		return struct{}{}, last
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, Multiplier: 2, MaxInterval: time.Second, RandomizationFactor: 0.2,
	}), backoff.WithMaxElapsedTime(0))
	if err != nil && last != nil && !errors.Is(err, last) {
		return fmt.Errorf("%w (%w)", last, err)
	}
	return err
}

// warm is one try of WarmWriter.
func warm(ctx context.Context, c *kafka.Client, topics []string) error {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("fetching the metadata of %v: %w", topics, err)
	}
	req := &kafka.ListOffsetsRequest{Topics: make(map[string][]kafka.OffsetRequest, len(md.Topics))}
	for _, t := range md.Topics {
		if t.Error != nil {
			return fmt.Errorf("fetching the metadata of %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			req.Topics[t.Name] = append(req.Topics[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	res, err := c.ListOffsets(ctx, req)
	if err != nil {
		return fmt.Errorf("connecting to the partition leaders of %v: %w", topics, err)
	}
	for topic, parts := range res.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return fmt.Errorf("connecting to the leader of %s/%d: %w", topic, p.Partition, p.Error)
			}
		}
	}
	return nil
}

// leaderPending reports whether err says a partition has no leader yet, or
// not the one asked: an election the next try may see finished.
func leaderPending(err error) bool {
	return errors.Is(err, kafka.LeaderNotAvailable) || errors.Is(err, kafka.NotLeaderForPartition)
}
