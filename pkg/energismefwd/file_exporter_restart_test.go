package energismefwd_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// killAfter is an Exporter that, right after its n-th successful upload
// (the file renamed into place), kills the broker before answering: the
// commit that follows cannot succeed.
type killAfter struct {
	energismefwd.Exporter
	n    int
	kill func()

	mu       sync.Mutex
	uploaded []string
}

func (k *killAfter) Export(ctx context.Context, b sftpexport.Batch) (string, error) {
	name, err := k.Exporter.Export(ctx, b)
	if err != nil {
		return name, err
	}
	k.mu.Lock()
	k.uploaded = append(k.uploaded, name)
	hit := len(k.uploaded) == k.n
	k.mu.Unlock()
	if hit {
		k.kill()
	}
	return name, nil
}

func (k *killAfter) names() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.uploaded...)
}

// TestFileExporterFailedCommitThenRestart: a file is renamed into place,
// then the broker dies (kill -9) so its offsets cannot be committed; the
// forwarder stops, the broker comes back, a new forwarder starts from the
// old committed offsets. It writes the same files again — same names, same
// rows, replacing them — and no row is in two files.
func TestFileExporterFailedCommitThenRestart(t *testing.T) {
	broker := kafkatest.StartBroker(t)
	kc := kafkaconf.Config{Brokers: []string{broker.Addr()}}
	topic := kafkatest.Topic(t, kc.Brokers, 2)
	dlq := kafkatest.Topic(t, kc.Brokers, 1)
	group := "energisme-files"

	root := t.TempDir()
	srv, err := sinksim.NewSFTPServer(sinksim.SFTPConfig{Root: root, Passwords: map[string]string{"u": "p"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, []byte(srv.KnownHostsLine(srv.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}

	// 200 records on 2 partitions, stamped 100 ms apart in windows of 1 s
	// long past: every partition's files are cut every ~5 records.
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	base := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	var msgs []kafka.Message
	for i := range n {
		did := fmt.Sprintf("dev%d", i%4)
		m, err := codec.Message("", []byte(did), &records.DeviceTelemetry{
			EventID: fmt.Sprint(i), ProductKey: pk, DID: did, Time: base, ReceivedAt: base,
			Points: []records.DataPoint{{Name: "seq", Value: int64(i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Time = base.Add(time.Duration(i) * 100 * time.Millisecond)
		msgs = append(msgs, m)
	}
	w, err := kc.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := w.WriteMessages(wctx, msgs...); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()

	start := func(exp energismefwd.Exporter) (stop func() time.Duration) {
		t.Helper()
		reg := prometheus.NewRegistry()
		fe, err := energismefwd.NewFileExporter(energismefwd.FileConfig{Interval: time.Second, MaxMessages: 1000}, exp, codec, zerolog.Nop(), reg)
		if err != nil {
			t.Fatal(err)
		}
		r, err := consume.NewAsync(consume.AsyncConfig{
			ProcessorConfig: consume.ProcessorConfig{Stage: "energisme-files", DLQTopic: dlq},
			GroupID:         group, Topics: []string{topic}, DrainTimeout: 5 * time.Second, LagInterval: time.Second,
		}, kc, fe, codec, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel), reg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		var once sync.Once
		var took time.Duration
		stop = func() time.Duration {
			once.Do(func() {
				begin := time.Now()
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("runner: %v", err)
					}
				case <-time.After(time.Minute):
					t.Error("the runner did not stop within a minute")
				}
				took = time.Since(begin)
			})
			return took
		}
		t.Cleanup(func() { stop() })
		return stop
	}
	uploader := func() *sftpexport.Uploader {
		up, err := sftpexport.New(sftpexport.Config{
			Addr: srv.Addr(), User: "u", Password: "p", KnownHostsFile: known, Format: sftpexport.FormatCSV, TimeZone: "UTC",
		}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = up.Close(context.Background()) })
		return up
	}

	first := &killAfter{Exporter: uploader(), n: 3, kill: broker.Kill}
	stop := start(first)
	testkit.Eventually(t, 2*time.Minute, "a third file uploaded, then the broker killed", func() bool { return len(first.names()) >= 3 })
	took := stop()
	t.Logf("stopped in %s with the broker gone", took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("stopping with the broker gone took %s, want well under the shutdown budget", took)
	}
	before := filesIn(t, root)
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	committedAfterKill := committedSum(t, kc, group, topic)
	if committedAfterKill >= n {
		t.Fatalf("committed %d before the restart: the kill came too late to test anything", committedAfterKill)
	}

	second := &killAfter{Exporter: uploader(), n: -1}
	stop = start(second)
	testkit.Eventually(t, 3*time.Minute, "every record committed after the restart", func() bool { return committedSum(t, kc, group, topic) == n })
	stop()

	after := filesIn(t, root)
	rewritten := 0
	for name, rows := range before {
		if again, ok := after[name]; !ok || strings.Join(again, "\n") != strings.Join(rows, "\n") {
			t.Errorf("%s: rewritten with other rows or gone after the restart", name)
		}
	}
	for _, name := range second.names() {
		if _, ok := before[name]; ok {
			rewritten++
		}
	}
	if rewritten == 0 {
		t.Errorf("the restart rewrote none of the files uploaded without a commit (%v); the test proves nothing", first.names())
	}
	seen := map[string]string{}
	for name, rows := range after {
		for _, r := range rows {
			if other, dup := seen[r]; dup {
				t.Errorf("row %q in %s and %s", r, other, name)
			}
			seen[r] = name
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct rows on the server, want %d", len(seen), n)
	}
	t.Logf("committed %d of %d when the broker died; %d files, %d rewritten under the same name by the restart", committedAfterKill, n, len(after), rewritten)
}

// filesIn returns the rows of every CSV file in root, by file name.
func filesIn(t *testing.T, root string) map[string][]string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, de := range entries {
		if !strings.HasSuffix(de.Name(), ".csv") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", de.Name(), err)
		}
		var rows []string
		for _, r := range recs[1:] {
			rows = append(rows, strings.Join(r, ","))
		}
		sort.Strings(rows)
		out[de.Name()] = rows
	}
	return out
}

func committedSum(t *testing.T, kc kafkaconf.Config, group, topic string) int64 {
	t.Helper()
	client, err := kc.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lags, err := consume.GroupLag(ctx, client, group, map[string][]int{topic: {0, 1}})
	if err != nil {
		return -1
	}
	var sum int64
	for _, l := range lags {
		sum += max(l.Committed, 0)
	}
	return sum
}
