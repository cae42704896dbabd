package energismefwd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// kafkaTime is the Kafka timestamp of the records telemetry builds: the
// first second of a 10-minute window.
var kafkaTime = time.Date(2026, 11, 22, 3, 10, 0, 0, time.UTC)

// telemetry builds a record at offset, stamped kafkaTime, fetched while
// newer records exist (its high watermark is beyond it).
func telemetry(t *testing.T, codec *records.Codec, partition int, offset int64, did string, points ...records.DataPoint) kafka.Message {
	t.Helper()
	return telemetryAt(t, codec, partition, offset, kafkaTime, offset+100, did, points...)
}

func telemetryAt(t *testing.T, codec *records.Codec, partition int, offset int64, at time.Time, hwm int64, did string, points ...records.DataPoint) kafka.Message {
	t.Helper()
	m, err := codec.Message("telemetry", []byte(did), &records.DeviceTelemetry{
		EventID: fmt.Sprint(offset), ProductKey: pk, DID: did, MAC: "AABB", Time: created, ReceivedAt: created,
		Source: "device_status_raw", Codec: "c", Kind: "status_report", Points: points,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Partition, m.Offset, m.Time, m.HighWaterMark = partition, offset, at, hwm
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

// TestFileExporterFiles: a file is a partition's run of records in one
// window (by Kafka time) and one block of MaxMessages offsets, uploaded when
// the next record belongs elsewhere; a file still open at shutdown is not
// uploaded and its records stay not done.
func TestFileExporterFiles(t *testing.T) {
	exp := newFakeExporter()
	tmpl, _ := sftpexport.ParseModuleTemplate("<mac>/<did>.<point>")
	fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: 10 * time.Minute, Module: &tmpl, MaxMessages: 100})
	in := make(chan kafka.Message)
	acks := newFakeAcks()
	done := make(chan error, 1)
	go func() { done <- fe.Run(context.Background(), in, acks) }()

	next := kafkaTime.Add(10 * time.Minute)
	in <- telemetry(t, codec, 0, 10, "d1", records.DataPoint{Name: "temp", Value: 21.5}, records.DataPoint{Name: "on", Value: true})
	in <- telemetry(t, codec, 1, 3, "d2", records.DataPoint{Name: "temp", Value: 19.0})
	in <- telemetry(t, codec, 0, 11, "d1", records.DataPoint{Name: "temp", Value: 22.0})
	in <- kafka.Message{Partition: 1, Offset: 4, Value: []byte("garbage")}
	in <- telemetry(t, codec, 0, 12, "d3") // no points: done with its file
	if n := acks.doneCount(); n != 1 {
		t.Fatalf("%d messages done before any file was complete, want only the rejected one", n)
	}
	in <- telemetryAt(t, codec, 0, 13, next, 200, "d1", records.DataPoint{Name: "temp", Value: 23.0})  // next window: 10-12 complete
	in <- telemetryAt(t, codec, 0, 99, next, 200, "d1", records.DataPoint{Name: "temp", Value: 24.0})  // last of block 0: complete at once
	in <- telemetryAt(t, codec, 0, 100, next, 200, "d1", records.DataPoint{Name: "temp", Value: 25.0}) // block 1, open
	close(in)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	files, _ := exp.snapshot()
	if len(files) != 2 {
		t.Fatalf("files %v, want telemetry-p0-10-12.csv and telemetry-p0-13-99.csv", keys(files))
	}
	want := []sftpexport.Row{
		{Module: "AABB/d1.temp", Time: created, Value: 21.5},
		{Module: "AABB/d1.on", Time: created, Value: true},
		{Module: "AABB/d1.temp", Time: created, Value: 22.0},
	}
	if p0 := files["telemetry-p0-10-12.csv"]; fmt.Sprint(p0.Rows) != fmt.Sprint(want) {
		t.Errorf("telemetry-p0-10-12.csv rows %v, want %v", p0.Rows, want)
	}
	if f := files["telemetry-p0-13-99.csv"]; len(f.Rows) != 2 {
		t.Errorf("telemetry-p0-13-99.csv rows %v, want 2", f.Rows)
	}
	wantDone := map[int64]bool{10: true, 11: true, 12: true, 13: true, 99: true, 4: true}
	if fmt.Sprint(acks.done) != fmt.Sprint(wantDone) || acks.rejected[4] == "" {
		t.Errorf("done %v rejected %v: want %v done (offset 4 rejected); open files (p1 3, p0 100) not done", acks.done, acks.rejected, wantDone)
	}
}

// TestFileExporterBoundedUploadsOpenFilesAtTheEnd: with Bounded (a
// replay's finished range) closing in completes every open file, whatever
// its window; cancelling ctx instead leaves them not uploaded and not done.
func TestFileExporterBoundedUploadsOpenFilesAtTheEnd(t *testing.T) {
	for _, tt := range []struct {
		name      string
		cancel    bool
		wantFiles []string
		wantDone  int
	}{
		{name: "in closed", wantFiles: []string{"telemetry-p0-5-6.csv", "telemetry-p1-2-2.csv"}, wantDone: 3},
		{name: "ctx cancelled", cancel: true, wantFiles: nil, wantDone: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exp := newFakeExporter()
			fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: 10 * time.Minute, Bounded: true})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := make(chan kafka.Message)
			acks := newFakeAcks()
			done := make(chan error, 1)
			go func() { done <- fe.Run(ctx, in, acks) }()
			// Far from the end of the log, in a window that is not over.
			now := time.Now()
			in <- telemetryAt(t, codec, 0, 5, now, 1000, "d1", records.DataPoint{Name: "v", Value: 1.0})
			in <- telemetryAt(t, codec, 0, 6, now, 1000, "d1", records.DataPoint{Name: "v", Value: 2.0})
			in <- telemetryAt(t, codec, 1, 2, now, 1000, "d2", records.DataPoint{Name: "v", Value: 3.0})
			if tt.cancel {
				cancel()
				if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
					t.Fatalf("Run: %v, want nil or context.Canceled", err)
				}
			} else {
				close(in)
				if err := <-done; err != nil {
					t.Fatalf("Run: %v", err)
				}
			}
			files, _ := exp.snapshot()
			got := keys(files)
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(tt.wantFiles) {
				t.Errorf("files %v, want %v", got, tt.wantFiles)
			}
			if n := acks.doneCount(); n != tt.wantDone {
				t.Errorf("%d messages done, want %d", n, tt.wantDone)
			}
		})
	}
}

// TestFileExporterEndOfLog: at the end of the log a file is uploaded once
// its window is over, grace included, and not before.
func TestFileExporterEndOfLog(t *testing.T) {
	exp := newFakeExporter()
	const interval = 400 * time.Millisecond
	fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: interval})
	in := make(chan kafka.Message)
	acks := newFakeAcks()
	done := make(chan error, 1)
	go func() { done <- fe.Run(context.Background(), in, acks) }()
	now := time.Now()
	windowEnd := now.UTC().Truncate(interval).Add(interval)
	in <- telemetryAt(t, codec, 0, 0, now, 1, "d1", records.DataPoint{Name: "v", Value: 1.0}) // offset 0 of 1: the end of the log
	select {
	case <-acks.changed:
	case <-time.After(30 * time.Second):
		t.Fatal("the file at the end of the log was not uploaded after its window")
	}
	if at := time.Now(); at.Before(windowEnd.Add(interval / 2)) {
		t.Errorf("uploaded at %s, before the window's end %s plus grace %s", at, windowEnd, interval/2)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if files, _ := exp.snapshot(); len(files) != 1 {
		t.Fatalf("files %v, want telemetry-p0-0-0.csv", keys(files))
	}
}

// TestFileExporterRestartRewritesTheSameFiles: whatever offset consuming
// restarts from (the committed one: a file boundary, or earlier when a
// commit failed after the upload), the files are cut at the same places,
// so a re-export replaces a file with the same rows and no row is in two
// files.
func TestFileExporterRestartRewritesTheSameFiles(t *testing.T) {
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var stream []kafka.Message
	for off := int64(0); off < n; off++ {
		at := kafkaTime.Add(time.Duration(off) * 7 * time.Second) // windows of 10m: cuts at offsets 86, 172, 258
		stream = append(stream, telemetryAt(t, codec, 0, off, at, n, "d1", records.DataPoint{Name: "v", Value: float64(off)}))
	}
	run := func(exp *fakeExporter, from int64) map[int64]bool {
		fe, _ := newExporter(t, exp, energismefwd.FileConfig{Interval: 10 * time.Minute, MaxMessages: 50})
		in := make(chan kafka.Message)
		acks := newFakeAcks()
		done := make(chan error, 1)
		go func() { done <- fe.Run(context.Background(), in, acks) }()
		for _, m := range stream[from:] {
			in <- m
		}
		close(in)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return acks.done
	}
	first := newFakeExporter()
	run(first, 0)
	want, _ := first.snapshot()
	for _, from := range []int64{0, 86, 100, 172} { // 0: nothing was committed; 86, 100, 172: file boundaries
		t.Run(fmt.Sprint("from ", from), func(t *testing.T) {
			exp := newFakeExporter()
			for name, b := range want { // what the first run left on the server
				exp.files[name] = b
			}
			run(exp, from)
			got, _ := exp.snapshot()
			if len(got) != len(want) {
				t.Errorf("%d files after the restart, want the same %d: %v", len(got), len(want), keys(got))
			}
			seen := map[string]string{}
			for name, b := range got {
				if fmt.Sprint(b.Rows) != fmt.Sprint(want[name].Rows) {
					t.Errorf("%s rewritten with other rows", name)
				}
				for _, r := range b.Rows {
					k := fmt.Sprint(r.Value)
					if other, dup := seen[k]; dup {
						t.Errorf("row %s in %s and %s", k, other, name)
					}
					seen[k] = name
				}
			}
		})
	}
	if len(want) < 5 {
		t.Errorf("files %v: want cuts at window changes (86, 172, 258) and blocks of 50", keys(want))
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
	// The block of 3 is full: the upload is retried while the server is down,
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
	fe, codec := newExporter(t, exp, energismefwd.FileConfig{Interval: time.Hour, MaxMessages: 1}) // every file complete at once
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
