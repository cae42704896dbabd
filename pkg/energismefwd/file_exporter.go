package energismefwd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
)

// File export defaults.
const (
	DefaultFileInterval = 10 * time.Minute
	DefaultFilePrefix   = "telemetry"
	DefaultMaxMessages  = 10_000
)

// Exporter uploads one file (*sftpexport.Uploader). It must be safe to call
// again with the same batch after a failure: the file is replaced.
type Exporter interface {
	Export(ctx context.Context, b sftpexport.Batch) (string, error)
}

// FileConfig configures a FileExporter.
type FileConfig struct {
	// Interval is the window (ENERGISME_FILE_INTERVAL, default 10m): a
	// file holds records of one partition whose Kafka timestamps fall in
	// one window, windows aligned on the clock (10m: :00, :10, … UTC).
	Interval time.Duration
	// Prefix starts every file name (ENERGISME_FILE_PREFIX, default
	// "telemetry"): "telemetry-p3-1200-1799.csv".
	Prefix string
	// Module builds each row's module id (default "<did>.<point>").
	Module *sftpexport.ModuleTemplate
	// MaxMessages caps a file (ENERGISME_FILE_MAX_MESSAGES, default
	// 10000): a window's records are also split where the offset is a
	// multiple of it, so a file never holds more and the split points do
	// not depend on where consuming began. The exporter holds at most this
	// many messages per partition; keep the runner's MaxPending above
	// that times the partitions.
	MaxMessages int
	// MinBackoff and MaxBackoff bound the delay between upload attempts
	// while the server is unreachable (defaults 1s and 5s: a server that is
	// back is used within seconds).
	MinBackoff, MaxBackoff time.Duration
	// Bounded says the input is a finished range (a replay), not a live
	// stream: when in is closed the range is over, so every open file is
	// complete and Run uploads it before returning. To stop a bounded run
	// without the open files, cancel ctx instead of closing in.
	Bounded bool
}

// FileExporter is a consume.AsyncHandler writing decoded telemetry as
// Energisme flat files, named after the offsets they cover. A file is one
// partition's run of consecutive records that share a window (by Kafka
// timestamp, aligned on Interval) and a block of MaxMessages offsets; it
// is uploaded — written under a temporary name, then renamed — as soon as
// it is complete: when the partition's next record belongs elsewhere, when
// the block is full, or, at the end of the log, once the window is over
// (plus a grace for records still being written). Only after the upload
// are its messages reported done, so offsets are committed only for rows
// on the server. File boundaries depend only on the records, never on
// when or where consuming started, so after any restart — a crash between
// the rename and the commit, a commit refused because the broker is gone —
// a file is written again whole, under the same name with the same rows,
// and replaces itself: no row is in two files. An incomplete file is never
// uploaded, not even on shutdown: its records stay uncommitted and are
// read again. One case remains: a partition taken away by a rebalance
// while its last file is open at the end of the log; once the window is
// over the old owner uploads the part it holds, and the new owner, which
// reads the whole window, writes a second file beginning with the same
// rows. While the server is unreachable
// the exporter retries the same file with backoff and reads nothing new:
// the consumer stops fetching and lag grows in Kafka. A record that is not
// DeviceTelemetry is dead-lettered (reason undecodable).
type FileExporter struct {
	cfg   FileConfig
	grace time.Duration
	check time.Duration
	exp   Exporter
	codec *records.Codec
	log   zerolog.Logger

	files    *prometheus.CounterVec // result
	rows     prometheus.Counter
	held     prometheus.Gauge
	uploadAt prometheus.Gauge
}

// NewFileExporter validates cfg and builds the exporter. Its metrics are
// registered with reg.
func NewFileExporter(cfg FileConfig, exp Exporter, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*FileExporter, error) {
	if exp == nil || codec == nil {
		return nil, errors.New("energismefwd: the file exporter needs an exporter and a codec")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultFileInterval
	}
	if cfg.Interval < 0 {
		return nil, fielderr.Bad("Interval", cfg.Interval, "must be positive, e.g. 10m")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultFilePrefix
	}
	if _, err := (sftpexport.Batch{Prefix: cfg.Prefix, Ranges: []sftpexport.OffsetRange{{}}}).FileName(sftpexport.FormatCSV); err != nil {
		return nil, fielderr.Wrap("Prefix", cfg.Prefix, err)
	}
	if cfg.Module == nil {
		t, err := sftpexport.ParseModuleTemplate(sftpexport.DefaultModuleTemplate)
		if err != nil {
			return nil, err
		}
		cfg.Module = &t
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Second, cfg.MinBackoff)
	}
	e := &FileExporter{
		cfg: cfg, exp: exp, codec: codec,
		// Records are stamped by their producer when written; one appended
		// more than this after its stamp would miss a window that closed at
		// the end of the log.
		grace: min(cfg.Interval/2, 30*time.Second),
		check: min(max(cfg.Interval/10, 50*time.Millisecond), 5*time.Second),
		log:   log.With().Str("component", "energisme-files").Logger(),
		files: httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "energisme_files_total",
			Help: "Energisme flat-file upload attempts, by result (ok, error).",
		}, []string{"result"})),
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "energisme_file_rows_total",
			Help: "Rows written to Energisme flat files that were uploaded.",
		}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "energisme_file_window_messages",
			Help: "Telemetry messages held in files not yet complete or uploaded.",
		}),
		uploadAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "energisme_file_last_upload_timestamp_seconds",
			Help: "Unix time of the last successful file upload.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{e.rows, e.held, e.uploadAt} {
			_ = reg.Register(c) // a second exporter in one process keeps its own
		}
	}
	return e, nil
}

// file is one partition's file being gathered.
type file struct {
	window time.Time // start of the window its records' timestamps fall in
	block  int64     // offset / MaxMessages
	msgs   []kafka.Message
	rows   []sftpexport.Row
	first  int64
	last   int64
}

// partition is what the exporter knows of one partition.
type partition struct {
	open *file
	// atEnd: the last message fetched was the partition's last one then
	// (offset + 1 = high watermark), so an open file whose window is over
	// has nothing left to wait for.
	atEnd bool
}

// Run implements consume.AsyncHandler. It uploads each file as soon as it
// is complete (see FileExporter) and returns nil once in is closed, after
// uploading the files that are complete by then; the others are left
// uncommitted. It returns ctx's error when ctx ends during an upload, and
// returns early only for a permanent export error (a misconfiguration:
// nothing would ever be uploaded). With FileConfig.Bounded, closing in
// uploads every open file (see Bounded).
func (e *FileExporter) Run(ctx context.Context, in <-chan kafka.Message, acks consume.Acks) error {
	parts := map[int]*partition{}
	tick := time.NewTicker(e.check)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Only a bounded run is stopped this way while in is open; a
			// live runner ends ctx after closing in and draining.
			return ctx.Err()
		case <-tick.C:
			if err := e.flushOver(ctx, parts, acks); err != nil {
				return err
			}
		case m, ok := <-in:
			if !ok && e.cfg.Bounded {
				return e.flushAll(ctx, parts, acks)
			}
			if !ok {
				return e.flushOver(ctx, parts, acks)
			}
			if err := e.add(ctx, parts, m, acks); err != nil {
				return err
			}
		}
		e.setHeld(parts)
	}
}

func (e *FileExporter) setHeld(parts map[int]*partition) {
	held := 0
	for _, p := range parts {
		if p.open != nil {
			held += len(p.open.msgs)
		}
	}
	e.held.Set(float64(held))
}

// windowOf is the start of the window of a record stamped t. Truncate
// counts from the zero time, a UTC midnight: intervals that divide a day
// start on the clock's round marks.
func (e *FileExporter) windowOf(t time.Time) time.Time { return t.UTC().Truncate(e.cfg.Interval) }

func (e *FileExporter) add(ctx context.Context, parts map[int]*partition, m kafka.Message, acks consume.Acks) error {
	p := parts[m.Partition]
	if p == nil {
		p = &partition{}
		parts[m.Partition] = p
	}
	p.atEnd = m.HighWaterMark > 0 && m.Offset+1 >= m.HighWaterMark
	var t records.DeviceTelemetry
	if err := e.codec.Unmarshal(m.Value, &t); err != nil {
		return acks.Reject(ctx, m, consume.Reject("undecodable", err))
	}
	window, block := e.windowOf(m.Time), m.Offset/int64(e.cfg.MaxMessages)
	if f := p.open; f != nil && (!f.window.Equal(window) || f.block != block) {
		if err := e.complete(ctx, m.Partition, p, acks); err != nil {
			return err
		}
	}
	f := p.open
	if f == nil {
		f = &file{window: window, block: block, first: m.Offset}
		p.open = f
	}
	f.msgs = append(f.msgs, kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset})
	f.last = m.Offset
	for _, dp := range t.Points {
		f.rows = append(f.rows, sftpexport.Row{
			Module: e.cfg.Module.Render(sftpexport.ModuleFields{ProductKey: t.ProductKey, DID: t.DID, MAC: t.MAC, Point: dp.Name}),
			Time:   t.Time,
			Value:  dp.Value,
		})
	}
	if (m.Offset+1)%int64(e.cfg.MaxMessages) == 0 {
		return e.complete(ctx, m.Partition, p, acks) // the block is full
	}
	return nil
}

// flushOver uploads, in partition order, the open files of partitions at
// the end of their log whose window is over (grace included).
func (e *FileExporter) flushOver(ctx context.Context, parts map[int]*partition, acks consume.Acks) error {
	ids := make([]int, 0, len(parts))
	for id := range parts {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	now := time.Now()
	for _, id := range ids {
		p := parts[id]
		if p.open == nil || !p.atEnd || now.Before(p.open.window.Add(e.cfg.Interval+e.grace)) {
			continue
		}
		if err := e.complete(ctx, id, p, acks); err != nil {
			return err
		}
	}
	return nil
}

// flushAll uploads, in partition order, every open file: the end of a
// bounded input (FileConfig.Bounded).
func (e *FileExporter) flushAll(ctx context.Context, parts map[int]*partition, acks consume.Acks) error {
	ids := make([]int, 0, len(parts))
	for id, p := range parts {
		if p.open != nil {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	for _, id := range ids {
		if err := e.complete(ctx, id, parts[id], acks); err != nil {
			return err
		}
	}
	return nil
}

// complete uploads p's open file (if it has rows) and reports its messages
// done. It returns at ctx's end or on a permanent error, leaving the file
// open.
func (e *FileExporter) complete(ctx context.Context, id int, p *partition, acks consume.Acks) error {
	f := p.open
	if len(f.rows) > 0 {
		if err := e.upload(ctx, sftpexport.Batch{
			Prefix: e.cfg.Prefix,
			Ranges: []sftpexport.OffsetRange{{Partition: id, First: f.first, Last: f.last}},
			Rows:   f.rows,
		}); err != nil {
			return err
		}
	}
	acks.Done(f.msgs...)
	p.open = nil
	return nil
}

// upload exports b until it succeeds, ctx ends or the error is permanent.
func (e *FileExporter) upload(ctx context.Context, b sftpexport.Batch) error {
	name, _ := b.FileName(sftpexport.FormatCSV)
	err := consume.Retry(ctx, consume.Backoff{Min: e.cfg.MinBackoff, Max: e.cfg.MaxBackoff}, func(int) error {
		start := time.Now()
		got, err := e.exp.Export(ctx, b)
		if got != "" {
			name = got
		}
		if err == nil {
			e.files.WithLabelValues("ok").Inc()
			e.rows.Add(float64(len(b.Rows)))
			e.uploadAt.SetToCurrentTime()
			e.log.Info().Str("file", name).Int("rows", len(b.Rows)).Dur("took", time.Since(start)).Msg("uploaded file")
			return nil
		}
		if ctx.Err() == nil {
			e.files.WithLabelValues("error").Inc()
		}
		return err
	}, func(err error, attempt int, next time.Duration) {
		e.log.Warn().Err(err).Str("file", name).Int("attempt", attempt).Dur("retry_in", next).Msg("uploading file failed; holding the file")
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("uploading %s: %w", name, ctx.Err())
	default:
		return fmt.Errorf("exporting file: %w", err)
	}
}
