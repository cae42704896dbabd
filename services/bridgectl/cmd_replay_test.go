package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestReplayTimeRange replays [t0+10m, t0+40m) of 60 events spread over
// three partitions and checks that exactly those 30 reach the sink, once
// each, and that a filter narrows them further.
func TestReplayTimeRange(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	topic := kafkatest.Topic(t, ta.brokers, 3)
	dlq := kafkatest.Topic(t, ta.brokers, 1)
	var msgs []kafka.Message
	for i := 0; i < 60; i++ {
		msgs = append(msgs, event(t, codec, i, "pk", "device_online", nil))
	}
	produce(ctx, t, ta, topic, msgs...)

	sink := &fakeSink{}
	ta.useFakeSink(sink, topic, dlq)
	from, to := t0.Add(10*time.Minute).Format(time.RFC3339), t0.Add(40*time.Minute).Format(time.RFC3339)

	t.Run("dry run sends nothing", func(t *testing.T) {
		if code := ta.run(ctx, t, "replay", "--sink", "fake", "--from", from, "--to", to, "--dry-run", "--samples", "2"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if got := sink.accepted(); len(got) != 0 {
			t.Fatalf("dry run sent %d records", len(got))
		}
		if !strings.Contains(ta.errw.String(), "matched 30") {
			t.Errorf("dry run summary does not say matched 30:\n%s", ta.errw)
		}
		if n := strings.Count(ta.out.String(), "\n"); n != 2 {
			t.Errorf("dry run printed %d samples, want 2", n)
		}
	})

	t.Run("range", func(t *testing.T) {
		if code := ta.run(ctx, t, "replay", "--sink", "fake", "--from", from, "--to", to); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		got := sink.accepted()
		slices.Sort(got)
		var want []string
		for i := 10; i < 40; i++ {
			want = append(want, fmt.Sprintf("ev-%03d", i))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("sink got %d records %v\nwant %v", len(got), got, want)
		}
		if sink.notReply {
			t.Error("a Handle call's context was not marked IsReplay")
		}
		if !strings.Contains(ta.errw.String(), "sent 30, skipped 0") {
			t.Errorf("summary:\n%s", ta.errw)
		}
	})

	t.Run("same replay again is complete", func(t *testing.T) {
		if code := ta.run(ctx, t, "replay", "--sink", "fake", "--from", from, "--to", to); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if n := len(sink.accepted()); n != 30 {
			t.Fatalf("a completed replay sent again: %d records in all", n)
		}
		if !strings.Contains(ta.errw.String(), "already complete") {
			t.Errorf("no 'already complete':\n%s", ta.errw)
		}
	})

	t.Run("filter", func(t *testing.T) {
		f := &fakeSink{}
		ta.useFakeSink(f, topic, dlq)
		if code := ta.run(ctx, t, "replay", "--sink", "fake", "--from", from, "--to", to, "--filter", "did=dev3,did=dev4,product_key=pk", "--rate", "10000/s"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		got := f.accepted()
		slices.Sort(got)
		var want []string
		for i := 10; i < 40; i++ {
			if i%7 == 3 || i%7 == 4 {
				want = append(want, fmt.Sprintf("ev-%03d", i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("filtered replay got %v, want %v", got, want)
		}
	})
}

// TestReplayResume interrupts a replay after some batches and checks that
// the same command sends the rest, and nothing it had sent before.
func TestReplayResume(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	topic := kafkatest.Topic(t, ta.brokers, 2)
	dlq := kafkatest.Topic(t, ta.brokers, 1)
	var msgs []kafka.Message
	for i := 0; i < 100; i++ {
		msgs = append(msgs, event(t, codec, i, "pk", "device_online", nil))
	}
	produce(ctx, t, ta, topic, msgs...)
	args := []string{"replay", "--sink", "fake", "--from", "earliest", "--batch-size", "5"}

	first := &fakeSink{}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	first.after = func(n int) {
		if n >= 30 {
			stop() // as Ctrl-C would, while the replay is under way
		}
	}
	ta.useFakeSink(first, topic, dlq)
	if code := ta.run(runCtx, t, args...); code != exitFailure {
		t.Fatalf("interrupted replay: exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(ta.errw.String(), "interrupted") {
		t.Errorf("no 'interrupted' message:\n%s", ta.errw)
	}
	sent1 := first.accepted()
	if len(sent1) < 30 || len(sent1) >= 100 {
		t.Fatalf("first run sent %d records, want 30..99", len(sent1))
	}

	second := &fakeSink{}
	ta.useFakeSink(second, topic, dlq)
	if code := ta.run(ctx, t, args...); code != exitOK {
		t.Fatalf("resumed replay: exit %d", code)
	}
	if !strings.Contains(ta.errw.String(), "resuming") {
		t.Errorf("second run did not resume:\n%s", ta.errw)
	}
	sent2 := second.accepted()
	all := append(append([]string(nil), sent1...), sent2...)
	slices.Sort(all)
	if len(all) != 100 || len(slices.Compact(slices.Clone(all))) != 100 {
		t.Fatalf("runs sent %d + %d records, %d distinct; want 100 in all, each once", len(sent1), len(sent2), len(slices.Compact(all)))
	}
}

// TestReplayUnavailableSink: a sink without a factory is refused clearly
// but may still be dry-run; a sink whose variables are unset is a
// configuration error.
func TestReplayUnavailableSink(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	topic := kafkatest.Topic(t, ta.brokers, 1)
	ta.sinks = replay.Sinks{{Name: "later", Stage: "later", Inputs: []string{topic}, DLQTopic: "later.dlq"}}
	if code := ta.run(ctx, t, "replay", "--sink", "later"); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(ta.errw.String(), "not available in this build") {
		t.Errorf("message:\n%s", ta.errw)
	}
	if code := ta.run(ctx, t, "replay", "--sink", "later", "--dry-run"); code != exitOK {
		t.Fatalf("dry run of an unavailable sink: exit %d", code)
	}

	ta.cfg.Topics.Events, ta.cfg.Topics.Telemetry, ta.sinks = topic, topic, nil
	for _, sink := range []string{"telemetry", "enos", "energisme"} {
		t.Setenv("ENOS_MAPPING_FILE", "")
		t.Setenv("ENERGISME_URL", "")
		if code := ta.run(ctx, t, "replay", "--sink", sink); code != exitUsage || !strings.Contains(ta.errw.String(), "sink configuration") {
			t.Errorf("%s sink without its variables: exit %d, want %d and a configuration error", sink, code, exitUsage)
		}
	}
}

func TestUsage(t *testing.T) {
	ctx := testContext(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "help", args: []string{"help"}, want: exitOK},
		{name: "no command", args: nil, want: exitOK},
		{name: "unknown", args: []string{"frobnicate"}, want: exitUsage},
		{name: "command help", args: []string{"replay", "--help"}, want: exitOK},
		{name: "bad flag", args: []string{"tail", "--nope"}, want: exitUsage},
		{name: "missing sink", args: []string{"replay"}, want: exitUsage},
		{name: "bad time", args: []string{"replay", "--sink", "telemetry", "--from", "yesterday"}, want: exitUsage},
		{name: "reset needs a target", args: []string{"offsets", "reset", "--group", "g"}, want: exitUsage},
		{name: "bad env", args: []string{"dlq", "list", "--topic", "x"}, want: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "bad env" {
				t.Setenv("TOPIC_PARTITIONS", "zero")
			}
			var out, errw testkit.SyncBuffer
			if got := run(ctx, tt.args, &out, &errw); got != tt.want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tt.want, &out, &errw)
			}
		})
	}
}

func TestRateFlag(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    float64
		wantErr bool
	}{
		{name: "number", in: "200", want: 200},
		{name: "per second", in: "12.5/s", want: 12.5},
		{name: "no limit", in: "0", want: 0},
		{name: "negative", in: "-1", wantErr: true},
		{name: "per minute", in: "5/m", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r rateFlag
			err := r.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && float64(r) != tt.want {
				t.Errorf("Set(%q) → %v, want %v", tt.in, float64(r), tt.want)
			}
		})
	}
}

// TestReplaySinkDown: a sink that fails every call is retried, not
// dead-lettered; stopping then leaves every record for the next run,
// which delivers them all once the sink is back.
func TestReplaySinkDown(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	topic := kafkatest.Topic(t, ta.brokers, 2)
	dlq := kafkatest.Topic(t, ta.brokers, 1)
	var msgs []kafka.Message
	for i := 0; i < 20; i++ {
		msgs = append(msgs, event(t, codec, i, "pk", "device_online", nil))
	}
	produce(ctx, t, ta, topic, msgs...)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	calls := 0
	down := &fakeSink{reject: func(kafka.Message) error {
		return sinkerr.NewRetryable(errors.New("503 from the sink"), 0)
	}}
	down.after = func(int) {
		if calls++; calls == 3 { // the sink failed three rounds: the operator gives up for now
			stop()
		}
	}
	ta.useFakeSink(down, topic, dlq)
	if code := ta.run(runCtx, t, "replay", "--sink", "fake"); code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	// The records of the batch in hand are failed; later ones were not read.
	if !regexp.MustCompile(`replay: sent 0, skipped 0, duplicates 0, dead-lettered 0, failed [1-9]`).MatchString(ta.errw.String()) {
		t.Errorf("want nothing dead-lettered and some failed:\n%s", ta.errw)
	}

	up := &fakeSink{}
	ta.useFakeSink(up, topic, dlq)
	if code := ta.run(ctx, t, "replay", "--sink", "fake"); code != exitOK {
		t.Fatalf("resumed: exit %d", code)
	}
	if got := up.accepted(); len(got) != 20 {
		t.Errorf("resumed replay sent %d records, want all 20", len(got))
	}
}
