package kafkaconf

import (
	"context"
	"fmt"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// MaxMessageBytesKey is the topic setting bounding one record batch (after
// compression). The broker refuses larger batches with MESSAGE_TOO_LARGE.
const MaxMessageBytesKey = "max.message.bytes"

// TopicConfigs reads the given settings of each topic (their effective
// values: the topic's own, else the broker's default). Describing configs
// needs the DescribeConfigs permission on the topics.
func TopicConfigs(ctx context.Context, client *kafka.Client, topics []string, names ...string) (map[string]map[string]string, error) {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: names,
		})
	}
	resp, err := client.DescribeConfigs(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("describing topic configs: %w", err)
	}
	out := make(map[string]map[string]string, len(topics))
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
func MaxMessageBytes(ctx context.Context, client *kafka.Client, topics ...string) (map[string]int, error) {
	cfgs, err := TopicConfigs(ctx, client, topics, MaxMessageBytesKey)
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
