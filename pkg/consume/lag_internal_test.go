package consume

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// fakeAdmin is a group on topic "t" whose member "me" owns assigned; every
// partition's log runs from start to end, committed as given (absent: none).
type fakeAdmin struct {
	mu        sync.Mutex
	state     string
	assigned  []int
	committed map[int]int64
	start     map[int]int64
	end       map[int]int64
	down      bool
}

func (f *fakeAdmin) DescribeGroups(context.Context, *kafka.DescribeGroupsRequest) (*kafka.DescribeGroupsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("dial tcp 127.0.0.1:9092: connection refused")
	}
	members := []kafka.DescribeGroupsResponseMember{{ClientID: "other", MemberAssignments: kafka.DescribeGroupsResponseAssignments{
		Topics: []kafka.GroupMemberTopic{{Topic: "t", Partitions: []int{9}}}}}}
	if f.state == "Stable" {
		members = append(members, kafka.DescribeGroupsResponseMember{ClientID: "me", MemberAssignments: kafka.DescribeGroupsResponseAssignments{
			Topics: []kafka.GroupMemberTopic{{Topic: "t", Partitions: f.assigned}}}})
	}
	return &kafka.DescribeGroupsResponse{Groups: []kafka.DescribeGroupsResponseGroup{{GroupID: "g", GroupState: f.state, Members: members}}}, nil
}

func (f *fakeAdmin) OffsetFetch(_ context.Context, req *kafka.OffsetFetchRequest) (*kafka.OffsetFetchResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &kafka.OffsetFetchResponse{Topics: map[string][]kafka.OffsetFetchPartition{}}
	for _, p := range req.Topics["t"] {
		c, ok := f.committed[p]
		if !ok {
			c = -1
		}
		resp.Topics["t"] = append(resp.Topics["t"], kafka.OffsetFetchPartition{Partition: p, CommittedOffset: c})
	}
	return resp, nil
}

func (f *fakeAdmin) ListOffsets(_ context.Context, req *kafka.ListOffsetsRequest) (*kafka.ListOffsetsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &kafka.ListOffsetsResponse{Topics: map[string][]kafka.PartitionOffsets{}}
	for _, r := range req.Topics["t"] {
		po := kafka.PartitionOffsets{Partition: r.Partition, FirstOffset: -1, LastOffset: -1}
		if r.Timestamp == kafka.FirstOffset {
			po.FirstOffset = f.start[r.Partition]
		} else {
			po.LastOffset = f.end[r.Partition]
		}
		resp.Topics["t"] = append(resp.Topics["t"], po)
	}
	return resp, nil
}

func (f *fakeAdmin) set(fn func(f *fakeAdmin)) { f.mu.Lock(); fn(f); f.mu.Unlock() }

func series(t *testing.T, g *prometheus.GaugeVec) string {
	t.Helper()
	ch := make(chan prometheus.Metric, 16)
	g.Collect(ch)
	close(ch)
	var out []string
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		var part string
		for _, l := range d.GetLabel() {
			if l.GetName() == "partition" {
				part = l.GetValue()
			}
		}
		out = append(out, fmt.Sprintf("%s=%g", part, d.GetGauge().GetValue()))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestLagMonitor: lag is log end minus committed (minus log start where
// nothing is committed) for the partitions this member owns; series of
// partitions it lost are deleted once the group is stable again, kept
// while it rebalances; a failed poll makes it disconnected until the next
// one succeeds.
func TestLagMonitor(t *testing.T) {
	admin := &fakeAdmin{
		state: "Stable", assigned: []int{0, 1},
		committed: map[int]int64{0: 40},
		start:     map[int]int64{0: 0, 1: 10, 2: 0},
		end:       map[int]int64{0: 100, 1: 25, 2: 7},
	}
	m := newMetrics(prometheus.NewRegistry())
	mon := &lagMonitor{admin: admin, group: "g", clientID: "me", stage: "s", gauge: m.lag, log: zerolog.Nop()}
	ctx := context.Background()
	steps := []struct {
		name   string
		change func(f *fakeAdmin)
		want   string
		down   bool
	}{
		{name: "committed and uncommitted partitions", want: "0=60 1=15"},
		{name: "progress", change: func(f *fakeAdmin) { f.committed[1] = 20 }, want: "0=60 1=5"},
		{name: "rebalancing: last owned kept", change: func(f *fakeAdmin) { f.state = "PreparingRebalance" }, want: "0=60 1=5"},
		{name: "stable again without partition 0", change: func(f *fakeAdmin) { f.state, f.assigned = "Stable", []int{1, 2} }, want: "1=5 2=7"},
		{name: "Kafka down: values kept, disconnected", change: func(f *fakeAdmin) { f.down = true }, want: "1=5 2=7", down: true},
		{name: "Kafka back", change: func(f *fakeAdmin) { f.down = false }, want: "1=5 2=7"},
	}
	for _, st := range steps {
		if st.change != nil {
			admin.set(st.change)
		}
		mon.poll(ctx)
		if got := series(t, m.lag); got != st.want {
			t.Errorf("%s: lag %s, want %s", st.name, got, st.want)
		}
		if err := mon.connected(); (err != nil) != st.down {
			t.Errorf("%s: connected() = %v, want down=%v", st.name, err, st.down)
		}
	}
	mon.stop()
	if got := series(t, m.lag); got != "" {
		t.Errorf("after stop: lag series %s, want none", got)
	}
}
