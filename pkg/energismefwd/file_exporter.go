package energismefwd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
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
	// Interval is the window: every Interval each partition's rows become
	// one file (ENERGISME_FILE_INTERVAL, default 10m).
	Interval time.Duration
	// Prefix starts every file name (ENERGISME_FILE_PREFIX, default
	// "telemetry"): "telemetry-p3-1200-1799.csv".
	Prefix string
	// Module builds each row's module id (default "<did>.<point>").
	Module *sftpexport.ModuleTemplate
	// MaxMessages uploads every window early when they hold this many
	// messages together (default 10000). Keep the runner's MaxPending above
	// it, or fetching pauses until the next tick.
	MaxMessages int
	// MinBackoff and MaxBackoff bound the delay between upload attempts
	// while the server is unreachable (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
}

// FileExporter is a consume.AsyncHandler writing decoded telemetry as
// Energisme flat files. It gathers each partition's rows (module, time,
// value; one per data point) over a window and uploads them as one file
// named after the offsets the window covers. Only after the upload — write
// to a temporary name, then rename — succeeded are the window's messages
// reported done, so offsets are committed only for rows on the server.
// While the server is unreachable it retries the same batch (same name)
// with backoff and reads nothing new: the consumer stops fetching and lag
// grows in Kafka. A record that is not DeviceTelemetry is dead-lettered
// (reason undecodable). Delivery is at least once: after a crash between a
// rename and the commit, or a rebalance that moves a partition while its
// window is open, some rows are written again, in a file whose name differs
// when the window boundaries differ.
type FileExporter struct {
	cfg   FileConfig
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
		return nil, fmt.Errorf("ENERGISME_FILE_INTERVAL=%s: must be positive, e.g. 10m", cfg.Interval)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultFilePrefix
	}
	if _, err := (sftpexport.Batch{Prefix: cfg.Prefix, Ranges: []sftpexport.OffsetRange{{}}}).FileName(sftpexport.FormatCSV); err != nil {
		return nil, fmt.Errorf("ENERGISME_FILE_PREFIX=%q: %w", cfg.Prefix, err)
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
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	e := &FileExporter{
		cfg: cfg, exp: exp, codec: codec,
		log: log.With().Str("component", "energisme-files").Logger(),
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
			Help: "Telemetry messages held in the open file windows.",
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

// window is one partition's pending file.
type window struct {
	msgs  []kafka.Message // topic, partition and offset only: what Done needs
	rows  []sftpexport.Row
	first int64
	last  int64
}

// Run implements consume.AsyncHandler. Every Interval, when the windows
// hold MaxMessages, and when in is closed, it uploads each partition's
// window as one file; it returns nil once in is closed and everything was
// uploaded, or ctx's error when ctx ended first (what was not uploaded is
// left uncommitted). It returns early only for a permanent export error
// (a misconfiguration: nothing would ever be uploaded).
func (e *FileExporter) Run(ctx context.Context, in <-chan kafka.Message, acks consume.Acks) error {
	windows := map[int]*window{}
	held := 0
	tick := time.NewTicker(e.cfg.Interval)
	defer tick.Stop()
	flush := func() error {
		err := e.flush(ctx, windows, acks)
		held = 0
		for _, w := range windows {
			held += len(w.msgs)
		}
		e.held.Set(float64(held))
		return err
	}
	for {
		select {
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		case m, ok := <-in:
			if !ok {
				return flush()
			}
			if err := e.add(ctx, windows, m, acks); err != nil {
				return err
			}
			held++
			e.held.Set(float64(held))
			if held >= e.cfg.MaxMessages {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
}

func (e *FileExporter) add(ctx context.Context, windows map[int]*window, m kafka.Message, acks consume.Acks) error {
	var t records.DeviceTelemetry
	if err := e.codec.Unmarshal(m.Value, &t); err != nil {
		return acks.Reject(ctx, m, consume.Reject("undecodable", err))
	}
	w := windows[m.Partition]
	if w == nil {
		w = &window{first: m.Offset}
		windows[m.Partition] = w
	}
	w.msgs = append(w.msgs, kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset})
	w.last = m.Offset
	for _, p := range t.Points {
		w.rows = append(w.rows, sftpexport.Row{
			Module: e.cfg.Module.Render(sftpexport.ModuleFields{ProductKey: t.ProductKey, DID: t.DID, MAC: t.MAC, Point: p.Name}),
			Time:   t.Time,
			Value:  p.Value,
		})
	}
	return nil
}

// flush uploads every window, in partition order, removing each once it is
// on the server and its messages are done. It stops at ctx's end or at a
// permanent error, leaving the remaining windows in place.
func (e *FileExporter) flush(ctx context.Context, windows map[int]*window, acks consume.Acks) error {
	parts := make([]int, 0, len(windows))
	for p := range windows {
		parts = append(parts, p)
	}
	sort.Ints(parts)
	for _, p := range parts {
		w := windows[p]
		if len(w.rows) > 0 {
			if err := e.upload(ctx, sftpexport.Batch{
				Prefix: e.cfg.Prefix,
				Ranges: []sftpexport.OffsetRange{{Partition: p, First: w.first, Last: w.last}},
				Rows:   w.rows,
			}); err != nil {
				return err
			}
		}
		acks.Done(w.msgs...)
		delete(windows, p)
	}
	return nil
}

// upload exports b until it succeeds, ctx ends or the error is permanent.
func (e *FileExporter) upload(ctx context.Context, b sftpexport.Batch) error {
	for attempt := 0; ; attempt++ {
		start := time.Now()
		name, err := e.exp.Export(ctx, b)
		if err == nil {
			e.files.WithLabelValues("ok").Inc()
			e.rows.Add(float64(len(b.Rows)))
			e.uploadAt.SetToCurrentTime()
			e.log.Info().Str("file", name).Int("rows", len(b.Rows)).Dur("took", time.Since(start)).Msg("uploaded file")
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("uploading %s: %w", name, ctx.Err())
		}
		e.files.WithLabelValues("error").Inc()
		if sinkerr.IsPermanent(err) {
			return fmt.Errorf("exporting file: %w", err)
		}
		delay := e.backoff(attempt)
		e.log.Warn().Err(err).Str("file", name).Int("attempt", attempt+1).Dur("retry_in", delay).Msg("uploading file failed; holding the window")
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("uploading %s: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// backoff is capped exponential with jitter over the upper half.
func (e *FileExporter) backoff(attempt int) time.Duration {
	d := e.cfg.MinBackoff << min(attempt, 20)
	if d <= 0 || d > e.cfg.MaxBackoff {
		d = e.cfg.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}
