package codecs

import "time"

// Defaults of the reload loop.
const (
	DefaultRescanInterval = 30 * time.Second
	DefaultDebounce       = 100 * time.Millisecond
)

// Option tunes a Registry.
type Option func(*Registry)

// WithRescanInterval sets how often Run rescans the directory even without
// a file event (default 30s).
func WithRescanInterval(d time.Duration) Option { return func(r *Registry) { r.rescanEvery = d } }

// WithDebounce sets how long Run waits after a file event for more events
// before rescanning, so a ConfigMap swap is read once (default 100ms).
func WithDebounce(d time.Duration) Option { return func(r *Registry) { r.debounce = d } }
