package consume_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
)

func at(p int, off int64) kafka.Message { return kafka.Message{Topic: "t", Partition: p, Offset: off} }

func TestTracker(t *testing.T) {
	type step struct {
		add  []kafka.Message
		done []kafka.Message
		want map[int]int64 // partition → offset Committable returns
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "in order", steps: []step{
			{add: []kafka.Message{at(0, 0), at(0, 1), at(0, 2)}, done: []kafka.Message{at(0, 0), at(0, 1)}, want: map[int]int64{0: 1}},
			{done: []kafka.Message{at(0, 2)}, want: map[int]int64{0: 2}},
		}},
		{name: "a gap holds the partition", steps: []step{
			{add: []kafka.Message{at(0, 5), at(0, 6), at(0, 7)}, done: []kafka.Message{at(0, 6), at(0, 7)}, want: map[int]int64{}},
			{done: []kafka.Message{at(0, 5)}, want: map[int]int64{0: 7}},
		}},
		{name: "partitions are independent", steps: []step{
			{add: []kafka.Message{at(0, 0), at(1, 10), at(0, 1), at(1, 11)}, done: []kafka.Message{at(1, 10), at(1, 11), at(0, 1)}, want: map[int]int64{1: 11}},
			{done: []kafka.Message{at(0, 0)}, want: map[int]int64{0: 1}},
		}},
		{name: "offsets with holes (compaction, markers)", steps: []step{
			{add: []kafka.Message{at(0, 3), at(0, 9), at(0, 20)}, done: []kafka.Message{at(0, 3), at(0, 9)}, want: map[int]int64{0: 9}},
			{add: []kafka.Message{at(0, 21)}, done: []kafka.Message{at(0, 21), at(0, 20)}, want: map[int]int64{0: 21}},
		}},
		{name: "released once", steps: []step{
			{add: []kafka.Message{at(0, 0)}, done: []kafka.Message{at(0, 0), at(0, 0)}, want: map[int]int64{0: 0}},
			{want: map[int]int64{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := consume.NewTracker(100)
			for i, s := range tt.steps {
				for _, m := range s.add {
					if ok, err := tr.Add(context.Background(), m); !ok || err != nil {
						t.Fatalf("step %d: Add(%d/%d) = %v, %v", i, m.Partition, m.Offset, ok, err)
					}
				}
				for _, m := range s.done {
					if err := tr.Done(m); err != nil {
						t.Fatalf("step %d: Done(%d/%d): %v", i, m.Partition, m.Offset, err)
					}
				}
				got := tr.Committable()
				if len(got) != len(s.want) {
					t.Fatalf("step %d: Committable = %v, want %v", i, got, s.want)
				}
				for _, m := range got {
					if off, ok := s.want[m.Partition]; !ok || off != m.Offset || m.Topic != "t" {
						t.Fatalf("step %d: Committable = %v, want %v", i, got, s.want)
					}
				}
			}
		})
	}
}

func TestTrackerDuplicatesAndUnknown(t *testing.T) {
	tr := consume.NewTracker(10)
	ctx := context.Background()
	for _, off := range []int64{4, 5} {
		if ok, _ := tr.Add(ctx, at(0, off)); !ok {
			t.Fatalf("Add(%d) refused", off)
		}
	}
	// Redelivered after a rebalance: the earlier copy is still pending.
	if ok, err := tr.Add(ctx, at(0, 5)); ok || err != nil {
		t.Fatalf("Add of a redelivered offset = %v, %v; want false, nil", ok, err)
	}
	if err := tr.Done(at(0, 3)); err == nil {
		t.Fatal("Done of a message never added succeeded")
	}
	if err := tr.Done(at(7, 0)); err == nil {
		t.Fatal("Done on an unknown partition succeeded")
	}
	_ = tr.Done(at(0, 4))
	_ = tr.Done(at(0, 5))
	if got := tr.Committable(); len(got) != 1 || got[0].Offset != 5 {
		t.Fatalf("Committable = %v, want offset 5", got)
	}
	// Released offsets are duplicates too.
	if ok, _ := tr.Add(ctx, at(0, 4)); ok {
		t.Fatal("Add of a released offset accepted")
	}
	if err := tr.Done(at(0, 4)); err == nil {
		t.Fatal("Done of a released message succeeded")
	}
}

func TestTrackerBlocksWhenFull(t *testing.T) {
	tr := consume.NewTracker(2)
	ctx := context.Background()
	_, _ = tr.Add(ctx, at(0, 0))
	_, _ = tr.Add(ctx, at(0, 1))
	if tr.Pending() != 2 {
		t.Fatalf("Pending = %d, want 2", tr.Pending())
	}

	// Full: Add waits for room, and gives up with its context.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if ok, err := tr.Add(short, at(0, 2)); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Add on a full tracker = %v, %v; want a deadline error", ok, err)
	}

	added := make(chan error, 1)
	go func() {
		_, err := tr.Add(ctx, at(0, 2))
		added <- err
	}()
	// Done alone frees nothing: only releasing does.
	_ = tr.Done(at(0, 1))
	if got := tr.Committable(); len(got) != 0 {
		t.Fatalf("Committable with offset 0 pending = %v", got)
	}
	select {
	case err := <-added:
		t.Fatalf("Add returned (%v) while the tracker was full", err)
	default:
	}
	_ = tr.Done(at(0, 0))
	if got := tr.Committable(); len(got) != 1 || got[0].Offset != 1 {
		t.Fatalf("Committable = %v, want offset 1", got)
	}
	select {
	case err := <-added:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Add still blocked after room was released")
	}
	if tr.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1", tr.Pending())
	}
}

func TestTrackerCompactsAcrossManyMessages(t *testing.T) {
	tr := consume.NewTracker(64)
	ctx := context.Background()
	var next int64
	for round := 0; round < 200; round++ {
		for i := 0; i < 50; i++ {
			_, _ = tr.Add(ctx, at(0, next+int64(i)))
		}
		// Finish out of order: the last half first.
		for i := 49; i >= 0; i-- {
			_ = tr.Done(at(0, next+int64(i)))
		}
		next += 50
		if got := tr.Committable(); len(got) != 1 || got[0].Offset != next-1 {
			t.Fatalf("round %d: Committable = %v, want offset %d", round, got, next-1)
		}
	}
	if tr.Pending() != 0 {
		t.Fatalf("Pending = %d, want 0", tr.Pending())
	}
}

// TestContiguousDoneIsTheTrackersRule: for one batch, ContiguousDone gives
// what a Tracker given the same messages and completions releases; a copy
// redelivered at a lower offset within the batch does not move it back.
func TestContiguousDoneIsTheTrackersRule(t *testing.T) {
	batch := []kafka.Message{at(0, 4), at(1, 9), at(0, 5), at(0, 6), at(1, 10), at(0, 5)}
	done := []bool{true, true, true, false, false, true}
	got := consume.ContiguousDone(batch, done)
	tr := consume.NewTracker(len(batch))
	for i, m := range batch {
		fresh, err := tr.Add(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if fresh && done[i] {
			if err := tr.Done(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := tr.Committable()
	if len(got) != 2 || len(want) != 2 {
		t.Fatalf("ContiguousDone %v, Tracker %v: want one commit per partition", got, want)
	}
	for i := range got {
		if got[i].Partition != want[i].Partition || got[i].Offset != want[i].Offset {
			t.Errorf("ContiguousDone %v, Tracker %v", got, want)
		}
	}
	if got[0].Offset != 5 || got[1].Offset != 9 {
		t.Errorf("commits %v: want partition 0 at 5, partition 1 at 9", got)
	}
}
