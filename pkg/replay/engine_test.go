package replay_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// TestEngine runs a replay by offsets per partition into a handler that
// rejects one record, with a duplicated event in the range, and checks
// the summary, the dead letter and the saved state.
func TestEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	brokers := kafkatest.Brokers(t)
	kcfg := kafkatest.Config(t)
	topic := kafkatest.Topic(t, brokers, 2)
	dlq := kafkatest.Topic(t, brokers, 1)
	codec, _ := records.NewCodec()

	// Partition 0 gets e0..e9 and a copy of e5 (same event id); all keyed
	// to one partition with an explicit balancer.
	w, err := kcfg.NewWriter(topic) // a transport of its own: fresh metadata
	if err != nil {
		t.Fatal(err)
	}
	w.Balancer = kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })
	defer w.Close()
	var msgs []kafka.Message
	for i := 0; i < 10; i++ {
		m, err := codec.Message("", []byte("dev"), &records.SnotiEvent{EventID: fmt.Sprintf("e%d", i), EventType: "device_online",
			ProductKey: "pk", DID: "dev", CreatedAt: time.Unix(0, 0), ReceivedAt: time.Unix(0, 0), Protocol: "v2", DeliveryID: "1", RawJSON: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, msgs[5])
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	client, _ := kcfg.Client()
	from, _ := replay.ParseBound("0=2")
	plan, err := replay.Resolve(ctx, client, []string{topic}, from, replay.Latest())
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Ranges; len(got) != 2 || got[0].Start != 2 || got[0].End != 11 || got[1].Len() != 0 {
		t.Fatalf("plan %+v: want [2, 11) on partition 0 and nothing on 1", got)
	}

	var mu sync.Mutex
	var got []string
	h := consume.PerKey(4, func(ctx context.Context, m kafka.Message) error {
		id := records.Header(m, "event_id")
		if id == "e7" {
			return consume.Reject("no_mapping", fmt.Errorf("no mapping for %s", id))
		}
		mu.Lock()
		got = append(got, id)
		mu.Unlock()
		return nil
	})
	dw, _ := kcfg.NewWriter(dlq)
	defer dw.Close()
	path := t.TempDir() + "/state.json"
	st, _, err := replay.OpenState(path, map[string]string{"t": topic}, false, func() (replay.Plan, error) { return plan, nil })
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	eng, err := replay.New(replay.Config{State: st, StatePath: path, Stage: "test", DLQTopic: dlq, BatchSize: 3,
		OnOutcome: func(o replay.Outcome) { outcomes = append(outcomes, o.Result) }}, kcfg, h, dw, codec, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := eng.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := replay.Summary{Sent: 7, DeadLettered: 1, Duplicates: 1}
	if sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"e2", "e3", "e4", "e5", "e6", "e8", "e9"}) {
		t.Errorf("handler got %v", got)
	}
	if len(outcomes) != 9 {
		t.Errorf("%d outcomes, want 9", len(outcomes))
	}
	dl := kafkatest.ReadN(t, brokers, dlq, 1, 30*time.Second)
	if records.Header(dl[0], "reason") != "no_mapping" || records.Header(dl[0], "event_id") != "e7" {
		t.Errorf("dead letter headers %v", dl[0].Headers)
	}
	saved, err := replay.LoadState(path)
	if err != nil || !saved.Complete || saved.Ranges[0].Next != 11 {
		t.Errorf("saved state %+v (%v): want complete, next 11", saved, err)
	}
}
