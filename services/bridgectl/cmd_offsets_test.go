package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/topics"
)

// waitFor polls cond until it holds or the test's deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// TestOffsetsReset starts a real group member, checks that a reset is
// refused while it is active, then stops it and resets by time: first the
// plan only, then with --execute.
func TestOffsetsReset(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	topic := kafkatest.Topic(t, ta.brokers, 2)
	var msgs []kafka.Message
	for i := 0; i < 20; i++ {
		msgs = append(msgs, event(t, codec, i, "pk", "device_online", nil))
	}
	produce(ctx, t, ta, topic, msgs...)
	group := topic + "-group"

	// A live member consumes and commits everything.
	member := kafka.NewReader(kafka.ReaderConfig{
		Brokers: ta.brokers, GroupID: group, GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset,
		MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second, CommitInterval: 0,
	})
	for i := 0; i < 20; i++ {
		m, err := member.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := member.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	client, _ := ta.cfg.Kafka.Client()
	members := func() int {
		g, err := topics.DescribeGroup(ctx, client, group)
		if err != nil {
			t.Fatal(err)
		}
		return len(g.Members)
	}
	waitFor(t, "the member to be in the group", func() bool { return members() == 1 })

	t.Run("show", func(t *testing.T) {
		if code := ta.run(ctx, t, "offsets", "show", "--group", group); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(ta.out.String(), "members 1") || !strings.Contains(ta.out.String(), "TOTAL") {
			t.Errorf("output:\n%s", ta.out)
		}
		if f := strings.Fields(lastLine(ta.out.String())); len(f) != 2 || f[1] != "0" {
			t.Errorf("total lag line %q, want 0", lastLine(ta.out.String()))
		}
	})

	at := t0.Add(8 * time.Minute).Format(time.RFC3339)
	t.Run("refused while a member is active", func(t *testing.T) {
		if code := ta.run(ctx, t, "offsets", "reset", "--group", group, "--to-datetime", at, "--execute"); code != exitRefused {
			t.Fatalf("exit %d, want %d", code, exitRefused)
		}
		if !strings.Contains(ta.errw.String(), "active members") {
			t.Errorf("message:\n%s", ta.errw)
		}
		if committed := committedTotal(ctx, t, ta, group, topic); committed != 20 {
			t.Errorf("offsets moved: committed sum %d, want 20", committed)
		}
	})

	if err := member.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the group to be empty", func() bool { return members() == 0 })

	t.Run("plan without execute", func(t *testing.T) {
		if code := ta.run(ctx, t, "offsets", "reset", "--group", group, "--to-datetime", at); code != exitRefused {
			t.Fatalf("exit %d, want %d", code, exitRefused)
		}
		if !strings.Contains(ta.errw.String(), "plan for group") || !strings.Contains(ta.errw.String(), "not executed") {
			t.Errorf("no plan shown:\n%s", ta.errw)
		}
		if committed := committedTotal(ctx, t, ta, group, topic); committed != 20 {
			t.Errorf("a plan moved offsets: committed sum %d", committed)
		}
	})

	t.Run("execute", func(t *testing.T) {
		if code := ta.run(ctx, t, "offsets", "reset", "--group", group, "--to-datetime", at, "--execute"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		// Records 8..19 are stamped at or after the time: 12 to consume again.
		off, err := topics.Committed(ctx, client, group, []string{topic})
		if err != nil {
			t.Fatal(err)
		}
		_, last, _ := logEnds(ctx, t, ta, topic)
		var lag int64
		for p, c := range off[topic] {
			lag += last[p] - c
		}
		if lag != 12 {
			t.Errorf("lag after reset %d, want 12 (offsets %v)", lag, off)
		}
		// The same reset again has nothing to change.
		if code := ta.run(ctx, t, "offsets", "reset", "--group", group, "--to-datetime", at); code != exitOK {
			t.Errorf("no-op reset: exit %d, want 0", code)
		}
	})

	t.Run("to earliest", func(t *testing.T) {
		if code := ta.run(ctx, t, "offsets", "reset", "--group", group, "--to-earliest", "--execute"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if committed := committedTotal(ctx, t, ta, group, topic); committed != 0 {
			t.Errorf("committed sum %d after --to-earliest, want 0", committed)
		}
	})
}

func committedTotal(ctx context.Context, t *testing.T, ta *testApp, group, topic string) int64 {
	t.Helper()
	client, _ := ta.cfg.Kafka.Client()
	off, err := topics.Committed(ctx, client, group, []string{topic})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range off[topic] {
		sum += max(c, 0)
	}
	return sum
}

func logEnds(ctx context.Context, t *testing.T, ta *testApp, topic string) ([]int, map[int]int64, error) {
	t.Helper()
	client, _ := ta.cfg.Kafka.Client()
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []int
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		parts = append(parts, p.ID)
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	last := map[int]int64{}
	for _, po := range resp.Topics[topic] {
		last[po.Partition] = po.LastOffset
	}
	return parts, last, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestOffsetsShowWithoutCommits: a group whose member consumes but has
// committed nothing yet shows its whole backlog as lag, found through the
// member's subscription; a group with neither says to name the topics.
func TestOffsetsShowWithoutCommits(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	topic := kafkatest.Topic(t, ta.brokers, 3)
	var msgs []kafka.Message
	for i := 0; i < 25; i++ {
		msgs = append(msgs, event(t, codec, i, "pk", "device_online", nil))
	}
	produce(ctx, t, ta, topic, msgs...)
	group := topic + "-nocommit"
	member := kafka.NewReader(kafka.ReaderConfig{
		Brokers: ta.brokers, GroupID: group, GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset,
		MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second, CommitInterval: 0,
	})
	defer member.Close()
	if _, err := member.FetchMessage(ctx); err != nil { // joined, fetching, never committing
		t.Fatal(err)
	}
	client, _ := ta.cfg.Kafka.Client()
	waitFor(t, "the member to be in the group", func() bool {
		g, err := topics.DescribeGroup(ctx, client, group)
		return err == nil && len(g.Members) == 1 && g.GroupState == "Stable"
	})
	if code := ta.run(ctx, t, "offsets", "show", "--group", group); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if f := strings.Fields(lastLine(ta.out.String())); len(f) != 2 || f[1] != "25" {
		t.Errorf("total lag line %q, want 25:\n%s", lastLine(ta.out.String()), ta.out)
	}
	if n := strings.Count(ta.out.String(), topic+" "); n != 3 {
		t.Errorf("%d partition lines for %s, want 3:\n%s", n, topic, ta.out)
	}

	if code := ta.run(ctx, t, "offsets", "show", "--group", topic+"-nobody"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(ta.errw.String(), "name the topics with --topic") {
		t.Errorf("no hint for a group with no commits and no members:\n%s", ta.errw)
	}
}
