package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// TestReplayByDeviceTime: a backlog delivered late — fault events and
// telemetry measured from t0 on, written to Kafka hours later, all at once
// — replayed by device time into the EnOS emulator sends exactly the
// records whose created_at (telemetry: time) is in [from, to); the same
// range by Kafka time (the default) sends none of them.
func TestReplayByDeviceTime(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.Telemetry = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.Events = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.EnosDLQ = kafkatest.Topic(t, ta.brokers, 1)
	sim, mapping := startEnOS(t)
	writeMapping(t, mapping, "pk-ev")

	// Measured from now−6h, one a minute; written to Kafka now (the
	// record timestamp is the write time, as the ingest leaves it).
	start := time.Now().UTC().Add(-6 * time.Hour).Truncate(time.Minute)
	var tel, evs []kafka.Message
	for i := range 40 {
		did := fmt.Sprintf("dev%d", i%5)
		at := start.Add(time.Duration(i) * time.Minute)
		m, err := codec.Message("", []byte(did), &records.DeviceTelemetry{
			EventID: fmt.Sprintf("late-tel-%02d", i), ProductKey: "pk-ev", DID: did, Time: at, ReceivedAt: at.Add(5 * time.Hour),
			Source: "device_status_raw", Codec: "standard", Kind: "status_report",
			Points: []records.DataPoint{{Name: "voltage", Value: float64(i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		tel = append(tel, m)
		e, err := codec.Message("", []byte(did), &records.SnotiEvent{
			EventID: fmt.Sprintf("late-fault-%02d", i), EventType: "attr_fault", ProductKey: "pk-ev", DID: did,
			CreatedAt: at, ReceivedAt: at.Add(5 * time.Hour), Protocol: "v1", DeliveryID: "1", RawJSON: "{}",
			Attr: &records.AttrEvent{Name: "fault_ground", Value: int64(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	produce(ctx, t, ta, ta.cfg.Topics.Telemetry, tel...)
	produce(ctx, t, ta, ta.cfg.Topics.Events, evs...)

	from, to := start.Add(10*time.Minute).Format(time.RFC3339), start.Add(30*time.Minute).Format(time.RFC3339)
	// By Kafka time: the backlog was written now, outside the range.
	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--from", from, "--to", to); code != exitOK {
		t.Fatalf("replay by Kafka time: exit %d", code)
	}
	if n := len(sim.Points()) + len(sim.Events()); n != 0 {
		t.Fatalf("a replay by Kafka time sent %d records of a backlog written after the range", n)
	}

	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--time", "device", "--from", from, "--to", to); code != exitOK {
		t.Fatalf("replay by device time: exit %d", code)
	}
	if !strings.Contains(ta.errw.String(), "selecting by device time") || !strings.Contains(ta.errw.String(), "sent 40") {
		t.Errorf("stderr lacks the device-time plan or the summary (sent 40: 20 points and 20 events):\n%s", ta.errw)
	}
	var want []float64
	for i := 10; i < 30; i++ {
		want = append(want, float64(i))
	}
	var points, faults []float64
	for _, p := range sim.Points() {
		v, _ := p.Value.(float64)
		points = append(points, v)
		if p.Realtime || p.Time != start.Add(time.Duration(v)*time.Minute).UnixMilli() {
			t.Errorf("point %+v: want backfill at its device time", p)
		}
	}
	for _, e := range sim.Events() {
		v, _ := e.Params["value"].(float64)
		faults = append(faults, v)
		if e.Realtime || e.Time != start.Add(time.Duration(v)*time.Minute).UnixMilli() {
			t.Errorf("event %+v: want backfill at its created_at", e)
		}
	}
	slices.Sort(points)
	slices.Sort(faults)
	if !slices.Equal(points, want) || !slices.Equal(faults, want) {
		t.Fatalf("EnOS got points %v and fault events %v, want exactly the records of minutes %v", points, faults, want)
	}
	if n := topicCount(ctx, t, ta, ta.cfg.Topics.EnosDLQ); n != 0 {
		t.Errorf("%d dead letters", n)
	}

	// The bound: a lateness shorter than the backlog's delay misses it.
	sim.Reset()
	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--time", "device", "--lateness", "1h", "--from", from, "--to", to); code != exitOK {
		t.Fatalf("replay with a short lateness: exit %d", code)
	}
	if n := len(sim.Points()) + len(sim.Events()); n != 0 {
		t.Errorf("--lateness 1h sent %d records written ~5h after the range", n)
	}

	// Usage errors: offsets by device time, --lateness without it.
	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--time", "device", "--from", "100"); code != exitUsage {
		t.Errorf("--time device --from <offset>: exit %d, want %d", code, exitUsage)
	}
	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--lateness", "2h"); code != exitUsage {
		t.Errorf("--lateness without --time device: exit %d, want %d", code, exitUsage)
	}
}

// TestReplaySinkReadsTheForwardersDLQVariable: a replay with the EnOS
// forwarder's environment (TOPIC_DLQ) dead-letters where the forwarder
// does and says which variable it used; TOPIC_DLQ and TOPIC_ENOS_DLQ naming
// different topics are refused.
func TestReplaySinkReadsTheForwardersDLQVariable(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.Telemetry = kafkatest.Topic(t, ta.brokers, 1)
	ta.cfg.Topics.Events = kafkatest.Topic(t, ta.brokers, 1)
	forwarderDLQ := kafkatest.Topic(t, ta.brokers, 1)
	// As loaded from the forwarder's environment: TOPIC_DLQ set,
	// TOPIC_ENOS_DLQ not.
	ta.cfg.Topics.DLQ, ta.cfg.Topics.EnosDLQ = forwarderDLQ, ""
	ta.cfg.Topics.applyDLQDefaults()
	_, mapping := startEnOS(t)
	writeMapping(t, mapping, "pk-ev")
	produce(ctx, t, ta, ta.cfg.Topics.Telemetry, voltage(t, codec, 1, "pk-ev"), voltage(t, codec, 2, "pk-unmapped"))

	if code := ta.run(ctx, t, "replay", "--sink", "enos"); code != exitOK {
		t.Fatalf("replay: exit %d", code)
	}
	if want := "dead letters of sink enos go to " + forwarderDLQ + " (TOPIC_DLQ)"; !strings.Contains(ta.errw.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, ta.errw)
	}
	if n := topicCount(ctx, t, ta, forwarderDLQ); n != 1 {
		t.Errorf("%d dead letters in TOPIC_DLQ=%s, want the unmapped record", n, forwarderDLQ)
	}

	ta.cfg.Topics.EnosDLQ = "enos.dlq.other" // TOPIC_ENOS_DLQ set too, to another topic
	ta.cfg.Topics.applyDLQDefaults()
	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--restart"); code != exitUsage || !strings.Contains(ta.errw.String(), "disagree") {
		t.Errorf("TOPIC_DLQ and TOPIC_ENOS_DLQ disagreeing: exit %d, want %d naming both\n%s", code, exitUsage, ta.errw)
	}
}

// topicCount is the number of records in topic (the sum of its log end
// offsets; test topics are fresh).
func topicCount(ctx context.Context, t *testing.T, ta *testApp, topic string) int64 {
	t.Helper()
	client, err := ta.cfg.Kafka.Client()
	if err != nil {
		t.Fatal(err)
	}
	parts, err := replay.Partitions(ctx, client, topic)
	if err != nil {
		t.Fatal(err)
	}
	_, last, err := replay.LogOffsets(ctx, client, topic, parts)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, o := range last {
		n += o
	}
	return n
}
