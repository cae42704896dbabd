package topics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

// fakeAdmin is a cluster of topics in memory; a topic named in
// createdMeanwhile appears when it is created (as if someone else had).
type fakeAdmin struct {
	topics.Admin     // the group calls: not used here
	topics           map[string]topics.Description
	topicErr         map[string]error
	createdMeanwhile map[string]bool
	metadataErr      error
	created          []string
}

func (f *fakeAdmin) Metadata(_ context.Context, req *kafka.MetadataRequest) (*kafka.MetadataResponse, error) {
	if f.metadataErr != nil {
		return nil, f.metadataErr
	}
	resp := &kafka.MetadataResponse{}
	for _, n := range req.Topics {
		if err, ok := f.topicErr[n]; ok {
			resp.Topics = append(resp.Topics, kafka.Topic{Name: n, Error: err})
			continue
		}
		d, ok := f.topics[n]
		if !ok {
			resp.Topics = append(resp.Topics, kafka.Topic{Name: n, Error: kafka.UnknownTopicOrPartition})
			continue
		}
		t := kafka.Topic{Name: n}
		for p := range d.Partitions {
			t.Partitions = append(t.Partitions, kafka.Partition{ID: p, Replicas: make([]kafka.Broker, d.ReplicationFactor)})
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}

func (f *fakeAdmin) CreateTopics(_ context.Context, req *kafka.CreateTopicsRequest) (*kafka.CreateTopicsResponse, error) {
	resp := &kafka.CreateTopicsResponse{Errors: map[string]error{}}
	for _, tc := range req.Topics {
		if f.createdMeanwhile[tc.Topic] {
			f.topics[tc.Topic] = topics.Description{Name: tc.Topic, Partitions: 1, ReplicationFactor: 1}
			resp.Errors[tc.Topic] = kafka.TopicAlreadyExists
			continue
		}
		f.created = append(f.created, tc.Topic)
		d := topics.Description{Name: tc.Topic, Partitions: tc.NumPartitions, ReplicationFactor: tc.ReplicationFactor, Configs: map[string]string{}}
		for _, c := range tc.ConfigEntries {
			d.Configs[c.ConfigName] = c.ConfigValue
		}
		f.topics[tc.Topic] = d
	}
	return resp, nil
}

func (f *fakeAdmin) DescribeConfigs(_ context.Context, req *kafka.DescribeConfigsRequest) (*kafka.DescribeConfigsResponse, error) {
	resp := &kafka.DescribeConfigsResponse{}
	for _, r := range req.Resources {
		out := kafka.DescribeConfigResponseResource{ResourceType: int8(r.ResourceType), ResourceName: r.ResourceName}
		for _, k := range r.ConfigNames {
			if v, ok := f.topics[r.ResourceName].Configs[k]; ok {
				out.ConfigEntries = append(out.ConfigEntries, kafka.DescribeConfigResponseConfigEntry{ConfigName: k, ConfigValue: v})
			}
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp, nil
}

func TestEnsureWithoutBroker(t *testing.T) {
	want := topics.Spec{Partitions: 3, ReplicationFactor: 1, MinInsyncReplicas: 1, MaxMessageBytes: 8388608}
	matching := topics.Description{Name: "ok", Partitions: 3, ReplicationFactor: 1, Configs: map[string]string{"min.insync.replicas": "1", "max.message.bytes": "8388608"}}
	newAdmin := func() *fakeAdmin {
		return &fakeAdmin{topics: map[string]topics.Description{"ok": matching, "small": {Name: "small", Partitions: 1, ReplicationFactor: 1, Configs: matching.Configs}}}
	}

	t.Run("creates, finds and diffs, in the order given", func(t *testing.T) {
		admin := newAdmin()
		admin.createdMeanwhile = map[string]bool{"raced": true}
		res, err := topics.Ensure(context.Background(), admin, want.Named("new", "ok", "small", "raced"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res {
			got = append(got, string(r.Action)+" "+r.Spec.Name)
		}
		if w := "created new|ok ok|differs small|differs raced"; strings.Join(got, "|") != w {
			t.Errorf("actions %q, want %q", strings.Join(got, "|"), w)
		}
		if len(admin.created) != 1 || admin.created[0] != "new" {
			t.Errorf("created %v, want only new", admin.created)
		}
		if d := res[2].Diffs; len(d) != 1 || d[0].String() != "partitions 1 (want 3)" {
			t.Errorf("small: diffs %v", d)
		}
		if res[1].Found.Configs["max.message.bytes"] != "8388608" {
			t.Errorf("ok: found %+v", res[1].Found)
		}
		if got := admin.topics["new"]; got.Partitions != 3 || got.Configs["max.message.bytes"] != "8388608" || got.Configs["min.insync.replicas"] != "1" {
			t.Errorf("new created as %+v", got)
		}
	})

	t.Run("never changes an existing topic", func(t *testing.T) {
		admin := newAdmin()
		wider := want
		wider.Partitions = 12
		res, err := topics.Ensure(context.Background(), admin, wider.Named("ok"))
		if err != nil || len(res) != 1 || res[0].Action != topics.Differs {
			t.Fatalf("Ensure = %+v, %v; want ok to differ", res, err)
		}
		if admin.topics["ok"].Partitions != 3 || len(admin.created) != 0 {
			t.Errorf("the topic was changed: %+v, created %v", admin.topics["ok"], admin.created)
		}
	})

	t.Run("a topic error other than unknown fails", func(t *testing.T) {
		admin := newAdmin()
		admin.topicErr = map[string]error{"secret": kafka.TopicAuthorizationFailed}
		_, err := topics.Ensure(context.Background(), admin, want.Named("new", "secret"))
		if !errors.Is(err, kafka.TopicAuthorizationFailed) || len(admin.created) != 0 {
			t.Errorf("err %v, created %v: want the authorisation error and nothing created", err, admin.created)
		}
	})

	t.Run("broker not reached", func(t *testing.T) {
		admin := newAdmin()
		admin.metadataErr = errors.New("dial tcp: connection refused")
		if _, err := topics.Ensure(context.Background(), admin, want.Named("new")); err == nil || !strings.Contains(err.Error(), "reading topic metadata") {
			t.Errorf("err %v", err)
		}
		var te *topics.TopicError
		if err := topics.Exist(context.Background(), admin, "ok"); err == nil || errors.As(err, &te) {
			t.Errorf("Exist: %v, want an error that is not a *TopicError", err)
		}
	})

	t.Run("invalid spec", func(t *testing.T) {
		bad := want
		bad.MaxMessageBytes = 10
		if _, err := topics.Ensure(context.Background(), newAdmin(), bad.Named("new")); err == nil || !strings.Contains(err.Error(), "MaxMessageBytes=10") {
			t.Errorf("err %v", err)
		}
	})

	t.Run("exist", func(t *testing.T) {
		admin := newAdmin()
		if err := topics.Exist(context.Background(), admin, "ok", "small"); err != nil {
			t.Fatal(err)
		}
		err := topics.Exist(context.Background(), admin, "ok", "gone", "also-gone")
		var te *topics.TopicError
		if !errors.As(err, &te) || !errors.Is(err, kafka.UnknownTopicOrPartition) || !strings.Contains(err.Error(), "topic gone") || !strings.Contains(err.Error(), "topic also-gone") {
			t.Errorf("Exist: %v, want a *TopicError for gone and also-gone", err)
		}
	})
}

func TestPartitionsErrors(t *testing.T) {
	admin := &fakeAdmin{topics: map[string]topics.Description{"t": {Name: "t", Partitions: 3, ReplicationFactor: 1}}}
	if ps, err := topics.Partitions(context.Background(), admin, "t"); err != nil || len(ps) != 3 || ps[2] != 2 {
		t.Errorf("Partitions = %v, %v", ps, err)
	}
	_, err := topics.Partitions(context.Background(), admin, "gone")
	if !errors.Is(err, kafka.UnknownTopicOrPartition) || err.Error() != "reading metadata of gone: "+kafka.UnknownTopicOrPartition.Error() {
		t.Errorf("missing topic: %v", err)
	}
	admin.metadataErr = errors.New("connection refused")
	if _, err := topics.Partitions(context.Background(), admin, "t"); err == nil || err.Error() != "reading metadata of t: connection refused" {
		t.Errorf("unreachable: %v", err)
	}
}
