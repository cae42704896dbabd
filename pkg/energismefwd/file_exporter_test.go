package energismefwd_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// fakeExporter keeps uploaded batches by file name; it fails while down.
type fakeExporter struct {
	mu       sync.Mutex
	down     bool
	attempts map[string]int
	files    map[string]sftpexport.Batch
	order    []string
}

func newFakeExporter() *fakeExporter {
	return &fakeExporter{attempts: map[string]int{}, files: map[string]sftpexport.Batch{}}
}

func (e *fakeExporter) Export(_ context.Context, b sftpexport.Batch) (string, error) {
	name, err := b.FileName(sftpexport.FormatCSV)
	if err != nil {
		return "", sinkerr.NewPermanent(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.attempts[name]++
	if e.down {
		return name, sinkerr.NewRetryable(errors.New("connection refused"), 0)
	}
	e.files[name] = b
	e.order = append(e.order, name)
	return name, nil
}

func (e *fakeExporter) setDown(d bool) { e.mu.Lock(); e.down = d; e.mu.Unlock() }

func (e *fakeExporter) snapshot() (files map[string]sftpexport.Batch, attempts map[string]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	files, attempts = map[string]sftpexport.Batch{}, map[string]int{}
	for k, v := range e.files {
		files[k] = v
	}
	for k, v := range e.attempts {
		attempts[k] = v
	}
	return files, attempts
}

// fakeAcks records what the exporter reports.
type fakeAcks struct {
	mu       sync.Mutex
	done     map[int64]bool
	rejected map[int64]string
	changed  chan struct{}
}

func newFakeAcks() *fakeAcks {
	return &fakeAcks{done: map[int64]bool{}, rejected: map[int64]string{}, changed: make(chan struct{}, 1)}
}

func (a *fakeAcks) Done(msgs ...kafka.Message) {
	a.mu.Lock()
	for _, m := range msgs {
		a.done[m.Offset] = true
	}
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

func (a *fakeAcks) Reject(_ context.Context, m kafka.Message, err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rejected[m.Offset] = err.Error()
	a.done[m.Offset] = true
	return nil
}

func (a *fakeAcks) doneCount() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.done) }

func telemetry(t *testing.T, codec *records.Codec, partition int, offset int64, did string, points ...records.DataPoint) kafka.Message {
	t.Helper()
	m, err := codec.Message("telemetry", []byte(did), &records.DeviceTelemetry{
		EventID: fmt.Sprint(offset), ProductKey: pk, DID: did, MAC: "AABB", Time: created, ReceivedAt: created,
		Source: "device_status_raw", Codec: "c", Kind: "status_report", Points: points,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Partition, m.Offset = partition, offset
	return m
}

func newExporter(t *testing.T, exp energismefwd.Exporter, cfg energismefwd.FileConfig) (*energismefwd.FileExporter, *records.Codec) {
	t.Helper()
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
	fe, err := energismefwd.NewFileExporter(cfg, exp, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return fe, codec
}

func TestFileExporterWindowsAndShutdownFlush(t *testing.T) {
	exp := newFakeExporter()
	tmpl, _ := sftpexport.ParseModuleTemplate("<mac>/<did>.<point>")
	fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: time.Hour, Module: &tmpl})
	in := make(chan kafka.Message)
	acks := newFakeAcks()
	done := make(chan error, 1)
	go func() { done <- fe.Run(context.Background(), in, acks) }()

	in <- telemetry(t, codec, 0, 10, "d1", records.DataPoint{Name: "temp", Value: 21.5}, records.DataPoint{Name: "on", Value: true})
	in <- telemetry(t, codec, 1, 3, "d2", records.DataPoint{Name: "temp", Value: 19.0})
	in <- telemetry(t, codec, 0, 11, "d1", records.DataPoint{Name: "temp", Value: 22.0})
	in <- kafka.Message{Partition: 1, Offset: 4, Value: []byte("garbage")}
	in <- telemetry(t, codec, 0, 12, "d3") // no points: done with its window; its receipt means the garbage was handled
	if n := acks.doneCount(); n != 1 {
		t.Fatalf("%d messages done before any upload, want only the rejected one", n)
	}
	close(in) // shutdown: the partial windows are uploaded
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	files, _ := exp.snapshot()
	p0, ok := files["telemetry-p0-10-12.csv"]
	if !ok || len(files) != 2 {
		t.Fatalf("files %v, want telemetry-p0-10-12.csv and telemetry-p1-3-3.csv", keys(files))
	}
	want := []sftpexport.Row{
		{Module: "AABB/d1.temp", Time: created, Value: 21.5},
		{Module: "AABB/d1.on", Time: created, Value: true},
		{Module: "AABB/d1.temp", Time: created, Value: 22.0},
	}
	if fmt.Sprint(p0.Rows) != fmt.Sprint(want) {
		t.Errorf("partition 0 rows %v, want %v", p0.Rows, want)
	}
	if _, ok := files["telemetry-p1-3-3.csv"]; !ok {
		t.Errorf("no file for partition 1: %v", keys(files))
	}
	if acks.doneCount() != 5 || acks.rejected[4] == "" {
		t.Errorf("done %v rejected %v: want all five done, offset 4 rejected", acks.done, acks.rejected)
	}
}

func TestFileExporterOutageHoldsTheWindow(t *testing.T) {
	exp := newFakeExporter()
	exp.setDown(true)
	fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: time.Hour, MaxMessages: 3})
	in := make(chan kafka.Message)
	acks := newFakeAcks()
	done := make(chan error, 1)
	go func() { done <- fe.Run(context.Background(), in, acks) }()
	for off := int64(0); off < 3; off++ {
		in <- telemetry(t, codec, 0, off, "d1", records.DataPoint{Name: "v", Value: off})
	}
	// MaxMessages reached: the upload is retried while the server is down,
	// and the exporter reads nothing new meanwhile.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, attempts := exp.snapshot(); attempts["telemetry-p0-0-2.csv"] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no retried upload within 30s")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case in <- telemetry(t, codec, 0, 3, "d1"):
		t.Fatal("the exporter took a message while its window could not be uploaded")
	default:
	}
	if acks.doneCount() != 0 {
		t.Fatal("messages reported done before their file was uploaded")
	}
	exp.setDown(false)
	select {
	case <-acks.changed:
	case <-time.After(30 * time.Second):
		t.Fatal("window not done after the server came back")
	}
	files, attempts := exp.snapshot()
	if len(files) != 1 || attempts["telemetry-p0-0-2.csv"] < 4 {
		t.Fatalf("files %v attempts %v: want one file, retried under the same name", keys(files), attempts)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFileExporterGivesUpAtDeadline(t *testing.T) {
	exp := newFakeExporter()
	exp.setDown(true)
	fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: time.Hour})
	in := make(chan kafka.Message, 1)
	acks := newFakeAcks()
	in <- telemetry(t, codec, 0, 0, "d1", records.DataPoint{Name: "v", Value: 1.0})
	close(in)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := fe.Run(ctx, in, acks); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want the deadline", err)
	}
	if acks.doneCount() != 0 {
		t.Fatal("a window that was never uploaded was reported done")
	}
}

func keys(m map[string]sftpexport.Batch) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
