package topics_test

import (
	"reflect"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

func TestNewResetPlan(t *testing.T) {
	current := topics.Offsets{"b": {0: 10, 1: 5}, "a": {1: 7}}
	target := topics.Offsets{"b": {1: 5, 0: 4}, "a": {0: 3, 1: 9}}
	p := topics.NewResetPlan("g", current, target)
	want := []topics.Move{
		{Topic: "a", Partition: 0, Current: -1, Target: 3},
		{Topic: "a", Partition: 1, Current: 7, Target: 9},
		{Topic: "b", Partition: 0, Current: 10, Target: 4},
		{Topic: "b", Partition: 1, Current: 5, Target: 5},
	}
	if p.Group != "g" || !reflect.DeepEqual(p.Moves, want) {
		t.Fatalf("plan %+v, want moves %+v", p, want)
	}
	var changes []string
	for _, m := range p.Moves {
		changes = append(changes, m.Change())
	}
	if want := []string{"set", "+2", "-6", "none"}; !reflect.DeepEqual(changes, want) {
		t.Errorf("changes %q, want %q", changes, want)
	}
	if n := p.Changes(); n != 3 {
		t.Errorf("Changes() = %d, want 3", n)
	}
	if n := topics.NewResetPlan("g", current, topics.Offsets{"b": {0: 10, 1: 5}}).Changes(); n != 0 {
		t.Errorf("a plan to where the group is has %d changes, want 0", n)
	}
}

func TestGroupTopics(t *testing.T) {
	g := kafka.DescribeGroupsResponseGroup{Members: []kafka.DescribeGroupsResponseMember{
		{MemberMetadata: kafka.DescribeGroupsResponseMemberMetadata{Topics: []string{"subscribed"}}},
		{MemberAssignments: kafka.DescribeGroupsResponseAssignments{Topics: []kafka.GroupMemberTopic{{Topic: "assigned"}}}},
	}}
	got := topics.GroupTopics(g, topics.Offsets{"committed": {0: 1}, "assigned": {0: 2}})
	if want := []string{"assigned", "committed", "subscribed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GroupTopics = %q, want %q", got, want)
	}
}

func TestActiveError(t *testing.T) {
	err := &topics.ActiveError{Group: "g", Members: []kafka.DescribeGroupsResponseMember{{ClientID: "decoder", ClientHost: "/10.0.0.1"}}}
	if want := "group g has 1 active members (decoder@/10.0.0.1): stop its consumers first"; err.Error() != want {
		t.Errorf("%q, want %q", err.Error(), want)
	}
}
