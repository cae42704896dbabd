package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// t0 is the stamp of the first test record; record i is stamped t0+i min.
var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// testApp is an app on the shared test broker with its own topics and
// state directory, writing to buffers.
type testApp struct {
	*app
	out, errw *testkit.SyncBuffer
	brokers   []string
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	brokers := kafkatest.Brokers(t)
	out, errw := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	a := &app{out: out, errw: errw, progressEvery: 50 * time.Millisecond,
		log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)}
	a.cfg.Kafka = kafkatest.Config(t)
	a.cfg.StateDir = t.TempDir()
	a.cfg.Partitions, a.cfg.ReplicationFactor, a.cfg.MinInsyncReplicas, a.cfg.MaxMessageBytes = 6, 1, 1, 8<<20
	a.cfg.Topics = Topics{Events: "unused-events", Invalid: "unused-invalid", Telemetry: "unused-telemetry",
		DecoderDLQ: "unused-decoder-dlq", EnosDLQ: "unused-enos-dlq", EnergismeDLQ: "unused-energisme-dlq",
		Commands: "unused-commands", CommandResults: "unused-command-results", CommandsDLQ: "unused-commands-dlq"}
	return &testApp{app: a, out: out, errw: errw, brokers: brokers}
}

// run runs one bridgectl command line and returns its exit code; the
// output buffers are reset first.
func (ta *testApp) run(ctx context.Context, t *testing.T, args ...string) int {
	t.Helper()
	ta.out.Reset()
	ta.errw.Reset()
	cmd, rest, err := findCommand(args)
	if err != nil {
		t.Fatalf("findCommand(%q): %v", args, err)
	}
	code := ta.exec(ctx, cmd, rest)
	t.Logf("bridgectl %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, ta.out, ta.errw)
	return code
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// event builds SnotiEvent i of a device, stamped t0+i min.
func event(t *testing.T, codec *records.Codec, i int, productKey, typ string, raw []byte) kafka.Message {
	t.Helper()
	did := fmt.Sprintf("dev%d", i%7)
	at := t0.Add(time.Duration(i) * time.Minute)
	m, err := codec.Message("", []byte(did), &records.SnotiEvent{
		EventID: fmt.Sprintf("ev-%03d", i), EventType: typ, ProductKey: productKey, DID: did,
		CreatedAt: at, ReceivedAt: at, Protocol: "v2", DeliveryID: fmt.Sprint(i), Raw: raw, RawJSON: "{}",
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Time = at
	return m
}

func produce(ctx context.Context, t *testing.T, ta *testApp, topic string, msgs ...kafka.Message) {
	t.Helper()
	w, err := ta.cfg.Kafka.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("writing to %s: %v", topic, err)
	}
}

// fakeSink is a sink handler that records the event ids it accepts. It
// rejects what reject says, fails everything once its context is
// cancelled (as a real sink's request would), and calls after with the
// number accepted so far after each batch.
type fakeSink struct {
	mu       sync.Mutex
	got      []string
	notReply bool // a call without IsReplay on its context
	reject   func(m kafka.Message) error
	after    func(accepted int)
}

func (f *fakeSink) Handle(ctx context.Context, msgs []kafka.Message) []error {
	errs := make([]error, len(msgs))
	if ctx.Err() != nil {
		for i := range errs {
			errs[i] = ctx.Err()
		}
		return errs
	}
	f.mu.Lock()
	if !consume.IsReplay(ctx) {
		f.notReply = true
	}
	for i, m := range msgs {
		if f.reject != nil {
			if errs[i] = f.reject(m); errs[i] != nil {
				continue
			}
		}
		f.got = append(f.got, records.Header(m, "event_id"))
	}
	n := len(f.got)
	f.mu.Unlock()
	if f.after != nil {
		f.after(n)
	}
	return errs
}

func (f *fakeSink) accepted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// useFakeSink registers f as sink "fake" reading input, rejects to dlq.
func (ta *testApp) useFakeSink(f *fakeSink, input, dlq string) {
	ta.sinks = replay.Sinks{{
		Name: "fake", Stage: "fake", Inputs: []string{input}, DLQTopic: dlq,
		Factory: func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
			if !env.Replay {
				return nil, fmt.Errorf("factory called without Replay")
			}
			return f, nil
		},
	}}
}
