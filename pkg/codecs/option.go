package codecs

import (
	"time"

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
