package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// TopicError is the broker's error for one topic in an otherwise answered
// request: kafka.UnknownTopicOrPartition when it does not exist, an
// authorisation error, …
type TopicError struct {
	Topic string
	Err   error
}

func (e *TopicError) Error() string { return fmt.Sprintf("topic %s: %v", e.Topic, e.Err) }
func (e *TopicError) Unwrap() error { return e.Err }

// Description is what a topic is on the cluster.
type Description struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	// Configs are the effective values (the topic's own, else the broker's
	// default) of the settings read.
	Configs map[string]string
}

// typedKeys are the settings Describe reads besides those a spec names.
var typedKeys = []string{MinInsyncReplicasKey, MaxMessageBytesKey, CleanupPolicyKey}

// Exist checks that every named topic exists. An error that is, or joins,
// *TopicError means the broker answered and a topic is missing (or not
// readable); any other error means the broker was not reached.
func Exist(ctx context.Context, admin MetadataAPI, names ...string) error {
	_, err := metadata(ctx, admin, names)
	return err
}

// metadata reads the named topics, in the order given.
func metadata(ctx context.Context, admin MetadataAPI, names []string) ([]kafka.Topic, error) {
	ts, err := fetchMetadata(ctx, admin, names)
	var te *TopicError
	if err != nil && !errors.As(err, &te) {
		err = fmt.Errorf("reading topic metadata: %w", err)
	}
	return ts, err
}

// fetchMetadata returns the topics that have no error and either the
// request's error or the joined *TopicError of the others.
func fetchMetadata(ctx context.Context, admin MetadataAPI, names []string) ([]kafka.Topic, error) {
	md, err := admin.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]kafka.Topic, len(md.Topics))
	for _, t := range md.Topics {
		byName[t.Name] = t
	}
	out := make([]kafka.Topic, 0, len(names))
	var errs []error
	for _, n := range names {
		t, ok := byName[n]
		switch {
		case !ok:
			errs = append(errs, &TopicError{Topic: n, Err: kafka.UnknownTopicOrPartition})
		case t.Error != nil:
			errs = append(errs, &TopicError{Topic: n, Err: t.Error})
		default:
			out = append(out, t)
		}
	}
	return out, errors.Join(errs...)
}

// Partitions lists the partitions of topic, sorted.
func Partitions(ctx context.Context, admin MetadataAPI, topic string) ([]int, error) {
	ts, err := fetchMetadata(ctx, admin, []string{topic})
	var te *TopicError
	if errors.As(err, &te) {
		err = te.Err
	}
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %s: %w", topic, err)
	}
	parts := make([]int, 0, len(ts[0].Partitions))
	for _, p := range ts[0].Partitions {
		parts = append(parts, p.ID)
	}
	sort.Ints(parts)
	if len(parts) == 0 {
		return nil, fmt.Errorf("reading metadata of %s: no partitions", topic)
	}
	return parts, nil
}

// PartitionsOf lists the partitions of each topic.
func PartitionsOf(ctx context.Context, admin MetadataAPI, names []string) (map[string][]int, error) {
	out := make(map[string][]int, len(names))
	for _, t := range names {
		ps, err := Partitions(ctx, admin, t)
		if err != nil {
			return nil, err
		}
		out[t] = ps
	}
	return out, nil
}

// Describe reads the partitions, replication factor, min.insync.replicas,
// max.message.bytes and cleanup.policy (and the settings named in keys) of
// each topic, in the order given. Describing configs needs the
// DescribeConfigs permission on the topics.
func Describe(ctx context.Context, admin Admin, names []string, keys ...string) ([]Description, error) {
	ts, err := metadata(ctx, admin, names)
	if err != nil {
		return nil, err
	}
	cfgs, err := Configs(ctx, admin, names, append(append([]string(nil), typedKeys...), keys...)...)
	if err != nil {
		return nil, err
	}
	out := make([]Description, len(ts))
	for i, t := range ts {
		d := Description{Name: t.Name, Partitions: len(t.Partitions), Configs: cfgs[t.Name]}
		if len(t.Partitions) > 0 {
			d.ReplicationFactor = len(t.Partitions[0].Replicas)
		}
		out[i] = d
	}
	return out, nil
}

// Configs reads the given settings of each topic (their effective values:
// the topic's own, else the broker's default).
func Configs(ctx context.Context, admin Admin, names []string, keys ...string) (map[string]map[string]string, error) {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range names {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: keys,
		})
	}
	resp, err := admin.DescribeConfigs(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("describing topic configs: %w", err)
	}
	out := make(map[string]map[string]string, len(names))
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("describing %s: %w", r.ResourceName, r.Error)
		}
		m := map[string]string{}
		for _, e := range r.ConfigEntries {
			m[e.ConfigName] = e.ConfigValue
		}
		out[r.ResourceName] = m
	}
	return out, nil
}

// MaxMessageBytes reads max.message.bytes of each topic.
func MaxMessageBytes(ctx context.Context, admin Admin, names ...string) (map[string]int, error) {
	cfgs, err := Configs(ctx, admin, names, MaxMessageBytesKey)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(cfgs))
	for t, m := range cfgs {
		n, err := strconv.Atoi(m[MaxMessageBytesKey])
		if err != nil {
			return nil, fmt.Errorf("%s of %s: %q is not a number", MaxMessageBytesKey, t, m[MaxMessageBytesKey])
		}
		out[t] = n
	}
	return out, nil
}
