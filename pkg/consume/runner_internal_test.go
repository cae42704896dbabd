package consume

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestContiguousDone(t *testing.T) {
	msg := func(p int, off int64) kafka.Message { return kafka.Message{Topic: "t", Partition: p, Offset: off} }
	tests := []struct {
		name  string
		batch []kafka.Message
		done  []bool
		want  map[int]int64 // partition → committed message offset
	}{
		{name: "all done", batch: []kafka.Message{msg(0, 1), msg(1, 5), msg(0, 2)}, done: []bool{true, true, true}, want: map[int]int64{0: 2, 1: 5}},
		{name: "gap holds the partition", batch: []kafka.Message{msg(0, 1), msg(0, 2), msg(0, 3)}, done: []bool{true, false, true}, want: map[int]int64{0: 1}},
		{name: "first not done", batch: []kafka.Message{msg(0, 1), msg(0, 2), msg(1, 7)}, done: []bool{false, true, true}, want: map[int]int64{1: 7}},
		{name: "nothing", batch: []kafka.Message{msg(0, 1)}, done: []bool{false}, want: map[int]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ContiguousDone(tt.batch, tt.done)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d commits %v, want %v", len(got), got, tt.want)
			}
			for _, m := range got {
				if tt.want[m.Partition] != m.Offset {
					t.Errorf("partition %d: commit %d, want %d", m.Partition, m.Offset, tt.want[m.Partition])
				}
			}
		})
	}
}

func TestSinkBackOff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second, MaxWait: 10 * time.Second}.policy()
	b.Reset()
	for round := 0; round < 30; round++ {
		d := b.NextBackOff()
		interval := min(100*time.Millisecond<<min(round, 20), time.Second)
		if lo, hi := interval/2, interval*3/2; d < lo || d > hi {
			t.Errorf("round %d: backoff %s outside [%s, %s]", round, d, lo, hi)
		}
	}
	b.retryAfter = 3 * time.Second
	if d := b.NextBackOff(); d != 3*time.Second {
		t.Errorf("Retry-After 3s: backoff %s, want 3s", d)
	}
	b.retryAfter = time.Hour
	if d := b.NextBackOff(); d != 10*time.Second {
		t.Errorf("Retry-After 1h: backoff %s, want capped at MaxWait 10s", d)
	}
	if d := b.NextBackOff(); d > 1500*time.Millisecond {
		t.Errorf("after a Retry-After: backoff %s, want back to the exponential (≤ 1.5s)", d)
	}
}

func TestReady(t *testing.T) {
	long := time.Now().Add(-2 * time.Minute).UnixNano()
	tests := []struct {
		name     string
		progress int64
		idle     bool
		down     bool
		wantErr  bool
	}{
		{name: "never fetched", wantErr: true},
		{name: "recent progress", progress: time.Now().UnixNano()},
		{name: "quiet topic, idle", progress: long, idle: true},
		{name: "idle but Kafka unreachable", progress: long, idle: true, down: true, wantErr: true},
		{name: "progressing but Kafka unreachable now", progress: time.Now().UnixNano(), down: true, wantErr: true},
		{name: "batch held by a failing sink", progress: long, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{}
			r.progress.Store(tt.progress)
			r.idle.Store(tt.idle)
			mon := &lagMonitor{}
			if tt.down {
				mon.failed(errors.New("dial tcp: connection refused"))
			}
			r.mon.Store(mon)
			if err := r.Ready(context.Background()); (err != nil) != tt.wantErr {
				t.Errorf("Ready = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.down {
				mon.reached()
				if err := r.Ready(context.Background()); err != nil && tt.progress != long {
					t.Errorf("Ready after Kafka is back = %v", err)
				}
			}
		})
	}
}

// TestDefaultRetryComesBackQuickly: with the default policy no wait
// between two attempts exceeds 4.5 s, however long the sink was down, so a
// sink that is back is used within seconds.
func TestDefaultRetryComesBackQuickly(t *testing.T) {
	cfg := ProcessorConfig{Stage: "s", DLQTopic: "d"}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	bo := cfg.backoff().policy()
	bo.Reset()
	for round := 0; round < 200; round++ {
		if d := bo.NextBackOff(); d > 4500*time.Millisecond {
			t.Fatalf("round %d: waits %s, want at most 4.5s", round, d)
		}
	}
}
