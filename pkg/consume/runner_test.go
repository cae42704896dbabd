package consume_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// fakeSink records what it accepted; it is down for its first outage calls
// and rejects values ending in 7.
type fakeSink struct {
	mu       sync.Mutex
	outage   int
	accepted map[string]int
}

func (s *fakeSink) send(_ context.Context, m kafka.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outage > 0 {
		s.outage--
		return sinkerr.NewRetryable(errors.New("503 Service Unavailable"), 0)
	}
	v := string(m.Value)
	if v[len(v)-1] == '7' {
		return consume.Reject("rejected", fmt.Errorf("sink said 400 for %s", v))
	}
	s.accepted[v]++
	return nil
}

func (s *fakeSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

func produce(t *testing.T, kc kafkaconf.Config, topic string, from, to int) {
	t.Helper()
	w, err := kc.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var ms []kafka.Message
	for i := from; i < to; i++ {
		ms = append(ms, kafka.Message{
			Key: []byte(fmt.Sprintf("dev%d", i%10)), Value: []byte(fmt.Sprint(i)),
			Headers: []kafka.Header{{Key: "event_id", Value: []byte(fmt.Sprintf("e%d", i))}},
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, ms...); err != nil {
		t.Fatal(err)
	}
}

// fixture is a runner test's Kafka: an input topic holding the records
// produce writes, a DLQ topic and the consumer group's name.
type fixture struct {
	kc             kafkaconf.Config
	in, dlq, group string
}

// newFixture creates the input topic with partitions, the DLQ and the
// group's name, and writes records 0 to n-1 to the input (produce), if any.
func newFixture(t *testing.T, partitions, n int) fixture {
	t.Helper()
	kc := kafkatest.Config(t)
	in := kafkatest.Topic(t, kc.Brokers, partitions)
	f := fixture{kc: kc, in: in, dlq: kafkatest.Topic(t, kc.Brokers, 1), group: in + "-g"}
	if n > 0 {
		produce(t, kc, in, 0, n)
	}
	return f
}

// config is a runner of stage "test" on f's input, group and DLQ, with
// batches of batchSize.
func (f fixture) config(batchSize int) consume.Config {
	return consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "test", DLQTopic: f.dlq},
		GroupID:         f.group, Topics: []string{f.in}, BatchSize: batchSize,
	}
}

// runner builds a runner of h with cfg on f's broker, its metrics in reg.
func (f fixture) runner(t *testing.T, cfg consume.Config, h consume.Handler, reg prometheus.Registerer) *consume.Runner {
	t.Helper()
	codec, _ := records.NewCodec()
	r, err := consume.New(cfg, f.kc, h, codec, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// retryFast is config(50) with sink retries 10 to 50 ms apart, for the
// tests whose sink fails for a while.
func (f fixture) retryFast() consume.Config {
	cfg := f.config(50)
	cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	return cfg
}

// startRunner runs a runner of h on f (retryFast) until stop is called.
func (f fixture) startRunner(t *testing.T, h consume.Handler) (stop func()) {
	t.Helper()
	return runInBackground(t, "runner", f.runner(t, f.retryFast(), h, prometheus.NewRegistry()).Run)
}

// runInBackground runs run until the returned stop is called, which cancels
// it and waits for it, failing the test if it errs or hangs.
func runInBackground(t *testing.T, name string, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s Run: %v", name, err)
			}
		case <-time.After(time.Minute):
			t.Errorf("%s did not stop within a minute", name)
		}
	}
}

// committed sums the group's committed offsets and the end offsets over
// partitions 0..2 of topic.
func committed(t *testing.T, kc kafkaconf.Config, group, topic string) (committed, end int64) {
	t.Helper()
	for _, c := range committedPerPartition(t, kc, group, topic) {
		committed += c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(kc.Addrs()...)}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0), kafka.LastOffsetOf(1), kafka.LastOffsetOf(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lo.Topics[topic] {
		end += p.LastOffset
	}
	return committed, end
}

// committedPerPartition returns the group's committed offset (next to read)
// per partition of topic (0..2).
func committedPerPartition(t *testing.T, kc kafkaconf.Config, group, topic string) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(kc.Addrs()...)}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range of.Topics[topic] {
		out[p.Partition] = max(p.CommittedOffset, 0)
	}
	return out
}

func TestRunnerOutageAndDeadLetters(t *testing.T) {
	const n = 300
	f := newFixture(t, 3, n)

	sink := &fakeSink{outage: 25, accepted: map[string]int{}}
	stop := f.startRunner(t, consume.PerKey(4, sink.send))
	want := n - n/10 // values ending in 7 are rejected
	testkit.Eventually(t, 2*time.Minute, "every good record at the sink", func() bool { return sink.count() == want })
	testkit.Eventually(t, time.Minute, "offsets committed to the end", func() bool {
		c, e := committed(t, f.kc, f.group, f.in)
		return c == e && e == n
	})
	stop()

	// The DLQ holds exactly the rejected records, with their reason.
	codec, _ := records.NewCodec()
	r := kafkatest.NewReader(t, f.kc.Brokers, f.dlq)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bad := map[string]bool{}
	for len(bad) < n/10 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading DLQ after %d: %v", len(bad), err)
		}
		var dl records.DeadLetter
		if err := codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		if dl.Reason != "rejected" || dl.Stage != "test" || *dl.SourceTopic != f.in {
			t.Errorf("dead letter %+v", dl)
		}
		bad[string(dl.Value)] = true
	}
	for v := range bad {
		if v[len(v)-1] != '7' {
			t.Errorf("good record %s was dead-lettered", v)
		}
	}
}

func TestRunnerRestartLosesNothing(t *testing.T) {
	const n = 400
	f := newFixture(t, 3, n)

	var mu sync.Mutex
	seen := map[string]int{}
	h := consume.PerKey(2, func(_ context.Context, m kafka.Message) error {
		mu.Lock()
		seen[string(m.Value)]++
		mu.Unlock()
		return nil
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }

	stop := f.startRunner(t, h)
	testkit.Eventually(t, 2*time.Minute, "some progress", func() bool { return count() >= n/4 })
	stop() // mid-stream
	before := count()
	stop = f.startRunner(t, h)
	testkit.Eventually(t, 2*time.Minute, "every record after the restart", func() bool { return count() == n })
	stop()
	t.Logf("records seen before the restart: %d of %d", before, n)
}

// lagSeries returns stage "test"'s snotibridge_consumer_lag series in reg
// by partition.
func lagSeries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "snotibridge_consumer_lag" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var part string
			for _, l := range m.GetLabel() {
				if l.GetName() == "partition" {
					part = l.GetValue()
				}
			}
			out[part] = m.GetGauge().GetValue()
		}
	}
	return out
}

func sum(m map[string]float64) (s float64) {
	for _, v := range m {
		s += v
	}
	return s
}

// TestRunnerLagTrueDuringSinkOutage: while the sink fails and the runner
// holds its batch (fetching nothing), the lag gauge still shows every
// record not done; it drains when the sink is back; when a second member
// joins, each pod exports only the partitions it owns, and a stopped
// member exports none.
func TestRunnerLagTrueDuringSinkOutage(t *testing.T) {
	const n = 200
	f := newFixture(t, 4, n)

	var down atomic.Bool
	down.Store(true)
	h := consume.PerKey(4, func(context.Context, kafka.Message) error {
		if down.Load() {
			return sinkerr.NewRetryable(errors.New("503 Service Unavailable"), 0)
		}
		return nil
	})
	cfg := f.retryFast()
	cfg.LagInterval = 200 * time.Millisecond
	start := func() (*prometheus.Registry, func()) {
		reg := prometheus.NewRegistry()
		return reg, runInBackground(t, "runner", f.runner(t, cfg, h, reg).Run)
	}
	reg1, stop1 := start()
	testkit.Eventually(t, 2*time.Minute, "lag of every record while the sink is down", func() bool {
		s := lagSeries(t, reg1)
		return len(s) == 4 && sum(s) == n
	})
	down.Store(false)
	testkit.Eventually(t, 2*time.Minute, "lag 0 once the sink is back", func() bool {
		s := lagSeries(t, reg1)
		return len(s) == 4 && sum(s) == 0
	})

	reg2, stop2 := start()
	testkit.Eventually(t, 2*time.Minute, "the partitions shared between the two members, each exported once", func() bool {
		s1, s2 := lagSeries(t, reg1), lagSeries(t, reg2)
		if len(s1) == 0 || len(s2) == 0 || len(s1)+len(s2) != 4 {
			return false
		}
		for p := range s1 {
			if _, both := s2[p]; both {
				return false
			}
		}
		return true
	})
	stop2()
	if s := lagSeries(t, reg2); len(s) != 0 {
		t.Errorf("a stopped member still exports lag %v", s)
	}
	testkit.Eventually(t, 2*time.Minute, "every partition back with the first member", func() bool { return len(lagSeries(t, reg1)) == 4 })
	stop1()
}

// TestRunnerFinalCommitRecordsEverythingDone: commits run in the
// background at most once per CommitInterval (an hour here, so only the
// first is made while running); stopping the runner commits everything
// finished.
func TestRunnerFinalCommitRecordsEverythingDone(t *testing.T) {
	const n = 300
	f := newFixture(t, 3, n)

	var seen atomic.Int64
	h := consume.HandlerFunc(func(_ context.Context, msgs []kafka.Message) []error {
		seen.Add(int64(len(msgs)))
		return make([]error, len(msgs))
	})
	cfg := f.config(20)
	cfg.CommitInterval = time.Hour
	stop := runInBackground(t, "runner", f.runner(t, cfg, h, prometheus.NewRegistry()).Run)
	testkit.Eventually(t, 2*time.Minute, "every record handled", func() bool { return seen.Load() == n })
	stop()
	if c, e := committed(t, f.kc, f.group, f.in); c != n || e != n {
		t.Fatalf("committed %d of %d after the stop, want all %d", c, e, n)
	}
}

// TestRunnerFatalErrorCommitsNothingPastIt: a batch that fails fatally
// ends the runner with the error; its offsets are committed up to the
// batch's first message — everything before it done, nothing of it or
// after it — also with commits in the background held back by a long
// CommitInterval.
func TestRunnerFatalErrorCommitsNothingPastIt(t *testing.T) {
	const n, poison = 200, "120"
	f := newFixture(t, 1, n)

	var mu sync.Mutex
	handled := map[int64]bool{}
	failedAt := int64(-1)
	h := consume.HandlerFunc(func(_ context.Context, msgs []kafka.Message) []error {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if string(m.Value) == poison {
				failedAt = msgs[0].Offset
				return nil // the wrong number of results: fatal
			}
		}
		for _, m := range msgs {
			handled[m.Offset] = true
		}
		return make([]error, len(msgs))
	})
	cfg := f.config(50)
	cfg.CommitInterval = time.Hour
	r := f.runner(t, cfg, h, prometheus.NewRegistry())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.Run(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v), want the fatal error before the deadline", err, ctx.Err())
	}
	c, _ := committed(t, f.kc, f.group, f.in)
	mu.Lock()
	defer mu.Unlock()
	if failedAt < 0 || c != failedAt {
		t.Fatalf("committed %d, want %d: the first offset of the batch that failed", c, failedAt)
	}
	for off := range c {
		if !handled[off] {
			t.Errorf("offset %d committed but never handled", off)
		}
	}
}
