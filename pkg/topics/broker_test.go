package topics_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/topics"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// brokerClient is a client of the shared test broker whose metadata is
// never stale for long.
func brokerClient(t *testing.T) (*kafka.Client, []string) {
	t.Helper()
	brokers := kafkatest.Brokers(t)
	tr := &kafka.Transport{MetadataTTL: 50 * time.Millisecond}
	t.Cleanup(tr.CloseIdleConnections)
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second, Transport: tr}, brokers
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestEnsureAgainstBroker creates topics with their settings, finds them
// as specified on a second run, and reports (never fixes) a difference.
func TestEnsureAgainstBroker(t *testing.T) {
	ctx := testContext(t)
	client, _ := brokerClient(t)
	var id [4]byte
	_, _ = rand.Read(id[:])
	names := []string{"topics-ensure-" + hex.EncodeToString(id[:]) + ".a", "topics-ensure-" + hex.EncodeToString(id[:]) + ".b"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: names})
	})
	want := topics.Spec{Partitions: 2, ReplicationFactor: 1, MinInsyncReplicas: 1, MaxMessageBytes: 2 << 20, CleanupPolicy: "delete",
		Other: map[string]string{"retention.ms": "3600000"}}

	res, err := topics.Ensure(ctx, client, want.Named(names...))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Action != topics.Created || r.Spec.Name != names[i] {
			t.Errorf("first run: %s %s, want created %s", r.Action, r.Spec.Name, names[i])
		}
		if err := topics.WaitReady(ctx, client, names[i], 2); err != nil {
			t.Fatal(err)
		}
	}

	found, err := topics.Describe(ctx, client, names, "retention.ms")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 {
		t.Fatalf("Describe found %d topics, want 2", len(found))
	}
	for _, d := range found {
		c := d.Configs
		if d.Partitions != 2 || d.ReplicationFactor != 1 || c["min.insync.replicas"] != "1" || c["max.message.bytes"] != "2097152" ||
			c["cleanup.policy"] != "delete" || c["retention.ms"] != "3600000" {
			t.Errorf("%s: %+v", d.Name, d)
		}
		if diffs := topics.Diff(want, d); len(diffs) != 0 {
			t.Errorf("%s differs from the spec it was created with: %v", d.Name, diffs)
		}
	}

	res, err = topics.Ensure(ctx, client, want.Named(names...))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Action != topics.OK || r.Found.Partitions != 2 {
			t.Errorf("second run: %+v, want ok", r)
		}
	}

	wider := want
	wider.Partitions, wider.MaxMessageBytes = 4, 4<<20
	res, err = topics.Ensure(ctx, client, wider.Named(names[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Action != topics.Differs || len(res[0].Diffs) != 2 ||
		res[0].Diffs[0].String() != "partitions 2 (want 4)" || res[0].Diffs[1].String() != "max.message.bytes 2097152 (want 4194304)" {
		t.Errorf("differing run: %+v", res)
	}
	if ps, err := topics.Partitions(ctx, client, names[0]); err != nil || len(ps) != 2 {
		t.Errorf("after a differing run %s has partitions %v (%v), want 2: existing topics are never changed", names[0], ps, err)
	}

	limits, err := topics.MaxMessageBytes(ctx, client, names...)
	if err != nil || limits[names[0]] != 2<<20 || limits[names[1]] != 2<<20 {
		t.Errorf("MaxMessageBytes = %v, %v", limits, err)
	}
	if err := topics.Exist(ctx, client, names...); err != nil {
		t.Errorf("Exist: %v", err)
	}
	var te *topics.TopicError
	if err := topics.Exist(ctx, client, names[0], names[0]+".missing"); !errors.As(err, &te) || te.Topic != names[0]+".missing" || !errors.Is(err, kafka.UnknownTopicOrPartition) {
		t.Errorf("Exist with a missing topic: %v", err)
	}
}

// TestResetAgainstBroker plans and applies offset resets of a real group:
// set where nothing was committed, moved back, refused while a member is
// active.
func TestResetAgainstBroker(t *testing.T) {
	ctx := testContext(t)
	client, brokers := brokerClient(t)
	topic := kafkatest.Topic(t, brokers, 2)
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	var msgs []kafka.Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, kafka.Message{Value: []byte{byte(i)}})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	ends := logEnds(ctx, t, client, topic)
	if ends[0]+ends[1] != 10 {
		t.Fatalf("log ends %v, want 10 records", ends)
	}
	group := topic + "-group"
	toEnd := func(context.Context, string) (map[int]int64, error) { return ends, nil }
	toStart := func(context.Context, string) (map[int]int64, error) { return map[int]int64{0: 0, 1: 0}, nil }

	// A broker just started loads its group coordinator on first use.
	waitMembers(ctx, t, client, group, 0)
	if _, err := topics.PlanReset(ctx, client, group, nil, toEnd); !errors.Is(err, topics.ErrNoCommits) {
		t.Fatalf("a group with no commits and no topics named: %v, want ErrNoCommits", err)
	}

	plan, err := topics.PlanReset(ctx, client, group, []string{topic}, toEnd)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changes() != 2 || plan.Moves[0].Change() != "set" || plan.Moves[1].Current != -1 {
		t.Fatalf("plan %+v: want both partitions set", plan)
	}
	if c, err := topics.Committed(ctx, client, group, []string{topic}); err != nil || c[topic][0] != -1 || c[topic][1] != -1 {
		t.Fatalf("a plan committed offsets: %v, %v", c, err)
	}
	if err := plan.Apply(ctx, client); err != nil {
		t.Fatal(err)
	}
	committed, err := topics.Committed(ctx, client, group, nil)
	if err != nil || committed[topic][0] != ends[0] || committed[topic][1] != ends[1] {
		t.Fatalf("committed %v (%v), want the log ends %v", committed, err, ends)
	}

	back, err := topics.PlanReset(ctx, client, group, nil, toStart)
	if err != nil {
		t.Fatal(err)
	}
	if back.Changes() != 2 || back.Moves[0].Change() != "-"+strconv.FormatInt(ends[0], 10) {
		t.Fatalf("plan back %+v", back)
	}

	// A live member: planning and applying are both refused.
	member := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, GroupID: group, GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset,
		MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second, CommitInterval: 0,
	})
	defer member.Close()
	waitMembers(ctx, t, client, group, 1)
	var active *topics.ActiveError
	if _, err := topics.PlanReset(ctx, client, group, nil, toStart); !errors.As(err, &active) || len(active.Members) != 1 {
		t.Errorf("planning with an active member: %v, want an *ActiveError", err)
	}
	if err := back.Apply(ctx, client); !errors.As(err, &active) {
		t.Errorf("applying with an active member: %v, want an *ActiveError", err)
	}
	if err := member.Close(); err != nil {
		t.Fatal(err)
	}
	waitMembers(ctx, t, client, group, 0)

	if err := back.Apply(ctx, client); err != nil {
		t.Fatal(err)
	}
	if c, err := topics.Committed(ctx, client, group, nil); err != nil || c[topic][0] != 0 || c[topic][1] != 0 {
		t.Errorf("committed %v (%v) after the reset back, want 0, 0", c, err)
	}
}

func logEnds(ctx context.Context, t *testing.T, client *kafka.Client, topic string) map[int]int64 {
	t.Helper()
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0), kafka.LastOffsetOf(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatal(p.Error)
		}
		out[p.Partition] = p.LastOffset
	}
	return out
}

// waitMembers waits until group can be described and has n members.
func waitMembers(ctx context.Context, t *testing.T, client *kafka.Client, group string, n int) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		g, err := topics.DescribeGroup(ctx, client, group)
		if err == nil && len(g.Members) == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d members in %s: %v (last: %d members, %v)", n, group, ctx.Err(), len(g.Members), err)
		case <-tick.C:
		}
	}
}
