package codecs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snotibridge/snotibridge/pkg/filewatch"
)

// Defaults of the reload loop (package filewatch's).
const (
	DefaultRescanInterval = filewatch.DefaultRescanInterval
	DefaultDebounce       = filewatch.DefaultDebounce
)

// Option tunes a Registry.
type Option func(*Registry)

// WithRescanInterval sets how often Run rescans the directory even without
// a file event (default 30s).
func WithRescanInterval(d time.Duration) Option { return func(r *Registry) { r.rescanEvery = d } }

// WithDebounce sets how long Run waits after a file event for more events
// before rescanning, so a ConfigMap swap is read once (default 100ms).
func WithDebounce(d time.Duration) Option { return func(r *Registry) { r.debounce = d } }

// WithMetrics exports the reload metrics of package filewatch for the
// folder, labelled file="CODECS_DIR": snotibridge_config_reloads_total
// (loaded, rejected) and snotibridge_config_rejected (1 while a file does
// not load).
func WithMetrics(reg prometheus.Registerer) Option { return func(r *Registry) { r.metricsReg = reg } }
