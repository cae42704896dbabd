package filewatch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
)

// ParseFunc parses and validates the whole content of a file; name is the
// file's path, for errors. It returns an error rather than a partly valid
// value: a File swaps in only values that passed.
type ParseFunc[T any] func(name string, data []byte) (*T, error)

// FileConfig names a watched file.
type FileConfig struct {
	// Path is the file. Its folder is watched, so Path may be a symlink
	// into a ConfigMap's "..data" folder.
	Path string
	// Label names the file in logs and metrics (the "file" label); use the
	// variable that sets it, e.g. ENOS_MAPPING_FILE.
	Label string
	Options
}

// FileStats are a File's counters.
type FileStats struct {
	Version  uint64 // increases with every value swapped in; 1 after Open
	Reloads  uint64 // new contents swapped in after Open
	Rejected uint64 // contents (or read failures) rejected since Open
	// Bad is true while the file on disk is not what is in force: its
	// content was rejected, or it cannot be read.
	Bad bool
}

// File is a configuration file parsed into a *T and reloaded when it
// changes. Current is safe for concurrent use and never waits for a reload;
// a value it returned is never modified, so a caller that loaded it once
// uses one version from start to end.
type File[T any] struct {
	cfg   FileConfig
	parse ParseFunc[T]
	log   zerolog.Logger
	m     Metrics

	cur     atomic.Pointer[T]
	version atomic.Uint64
	running atomic.Bool

	mu       sync.Mutex // serialises Reload; guards the fields below
	sum      [sha256.Size]byte
	lastErr  string // the last rejection, so one bad content is counted once
	reloads  uint64
	rejected uint64
	bad      bool
}

// Metrics are the reload metrics of one watched configuration, labelled
// with the variable that names it (file="ENOS_MAPPING_FILE",
// file="CODECS_DIR"). A File keeps its own; the codecs registry uses them
// for its folder. The zero Metrics counts nothing.
type Metrics struct {
	loaded, rejected prometheus.Counter
	bad              prometheus.Gauge
}

// NewMetrics registers the reload metrics with reg (nil: not exported), or
// shares those another watched configuration of the process registered.
func NewMetrics(reg prometheus.Registerer, label string) Metrics {
	reloads := httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "snotibridge_config_reloads_total",
		Help: "Reloads of a watched configuration (codec folder, mapping files), by file (the variable naming it) and outcome (loaded: swapped in; rejected: invalid or unreadable, the previous version stays in force).",
	}, []string{"file", "outcome"}))
	bad := httpserver.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "snotibridge_config_rejected",
		Help: "1 while a watched configuration's current content is rejected (in part, for a codec folder) and its previous version stays in force, else 0.",
	}, []string{"file"}))
	m := Metrics{loaded: reloads.WithLabelValues(label, "loaded"), rejected: reloads.WithLabelValues(label, "rejected"), bad: bad.WithLabelValues(label)}
	m.bad.Set(0)
	return m
}

// Loaded counts a new version swapped in.
func (m Metrics) Loaded() {
	if m.loaded != nil {
		m.loaded.Inc()
	}
}

// Rejected counts a content (or a read failure) rejected, and flags the
// configuration as (in part) rejected first (SetBad(true)): whoever sees
// the count, waiting for it, sees the flag as well.
func (m Metrics) Rejected() {
	m.SetBad(true)
	if m.rejected != nil {
		m.rejected.Inc()
	}
}

// SetBad sets whether the configuration on disk is (in part) rejected.
func (m Metrics) SetBad(bad bool) {
	if m.bad == nil {
		return
	}
	if bad {
		m.bad.Set(1)
	} else {
		m.bad.Set(0)
	}
}

// Open reads and parses the file. It fails when the file cannot be read or
// does not parse, so a bad configuration stops a start; later reloads keep
// the previous value instead (see Run). Its metrics are registered with
// reg (nil: not exported), or shared with another File of the process.
func Open[T any](cfg FileConfig, parse ParseFunc[T], log zerolog.Logger, reg prometheus.Registerer) (*File[T], error) {
	if cfg.Path == "" {
		return nil, errors.New("filewatch: Path is empty")
	}
	if parse == nil {
		return nil, errors.New("filewatch: parse function is nil")
	}
	if err := cfg.Options.Validate(); err != nil {
		return nil, fmt.Errorf("watching %s: %w", cfg.Path, err)
	}
	cfg.Options = cfg.Options.withDefaults()
	if cfg.Label == "" {
		cfg.Label = filepath.Base(cfg.Path)
	}
	f := &File[T]{
		cfg: cfg, parse: parse,
		log: log.With().Str("file", cfg.Path).Str("config", cfg.Label).Logger(),
	}
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", cfg.Path, err)
	}
	v, err := parse(cfg.Path, data)
	if err != nil {
		return nil, err
	}
	f.sum = sha256.Sum256(data)
	f.cur.Store(v)
	f.version.Store(1)
	f.m = NewMetrics(reg, cfg.Label)
	return f, nil
}

// Current returns the value in force.
func (f *File[T]) Current() *T { return f.cur.Load() }

// Path returns the watched file's path.
func (f *File[T]) Path() string { return f.cfg.Path }

// Reload reads the file now and swaps in its value if the content changed
// and parses. A content that does not parse, or a file that cannot be
// read, is rejected: logged (once per content), counted, and the previous
// value stays in force; the error is returned. Safe to call concurrently
// with Run and Current.
func (f *File[T]) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.cfg.Path) // follows the ConfigMap's symlinks
	if err != nil {
		// When the file comes back, even with the content in force, it is
		// read and parsed again, and the rejection cleared.
		f.sum = [sha256.Size]byte{}
		return f.reject(fmt.Errorf("reading %s: %w", f.cfg.Path, err), "cannot read the file")
	}
	sum := sha256.Sum256(data)
	if bytes.Equal(sum[:], f.sum[:]) {
		if f.lastErr != "" {
			return errors.New(f.lastErr)
		}
		return nil // unchanged (or the same bad content, already counted)
	}
	f.sum = sum
	v, err := f.parse(f.cfg.Path, data)
	if err != nil {
		f.lastErr = "" // a new bad content is counted even if its message is the same
		return f.reject(err, "new content rejected")
	}
	f.cur.Store(v)
	version := f.version.Add(1)
	f.lastErr, f.bad = "", false
	f.reloads++
	f.m.Loaded()
	f.m.SetBad(false)
	f.log.Info().Uint64("version", version).Msg("configuration file reloaded")
	return nil
}

// reject counts and logs err once, keeping the value in force. Called with
// mu held.
func (f *File[T]) reject(err error, msg string) error {
	if err.Error() == f.lastErr {
		return err
	}
	f.lastErr, f.bad = err.Error(), true
	f.rejected++
	f.m.Rejected()
	f.log.Error().Err(err).Uint64("version_in_force", f.version.Load()).Msg(msg + "; keeping the version in force")
	return err
}

// Run watches the file's folder until ctx is done (see Watch) and reloads
// the file on every change; it returns nil when ctx is cancelled. Call it
// at most once.
func (f *File[T]) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return fmt.Errorf("filewatch: Run called twice for %s", f.cfg.Path)
	}
	return Watch(ctx, filepath.Dir(f.cfg.Path), f.cfg.Options, func() { _ = f.Reload() }, f.log)
}

// Stats returns the file's counters.
func (f *File[T]) Stats() FileStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FileStats{Version: f.version.Load(), Reloads: f.reloads, Rejected: f.rejected, Bad: f.bad}
}
