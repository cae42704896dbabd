package filewatch

import (
	"context"
	"errors"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Defaults of the reload loop.
const (
	DefaultRescanInterval = 30 * time.Second
	DefaultDebounce       = 100 * time.Millisecond
)

// Options tune the reload loop; zero values take the defaults.
type Options struct {
	// RescanInterval is how often the folder is rescanned even without a
	// file event (default 30s).
	RescanInterval time.Duration
	// Debounce is how long to wait after a file event for more events
	// before rescanning, so a ConfigMap swap is read once (default 100ms).
	Debounce time.Duration
}

func (o Options) withDefaults() Options {
	if o.RescanInterval == 0 {
		o.RescanInterval = DefaultRescanInterval
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	return o
}

// Validate reports an interval that is not positive or a negative debounce.
func (o Options) Validate() error {
	var errs []error
	if o.RescanInterval < 0 {
		errs = append(errs, errors.New("rescan interval: must be > 0"))
	}
	if o.Debounce < 0 {
		errs = append(errs, errors.New("debounce: must be ≥ 0"))
	}
	return errors.Join(errs...)
}

// Watch calls rescan once at start (to catch what changed before the watch
// was set up), after every burst of file events in dir (once the debounce
// elapsed) and every rescan interval, until ctx is done; it then returns
// nil. rescan logs and counts its own failures. When fsnotify cannot watch
// dir, Watch logs it and relies on the periodic rescan. rescan is never
// called concurrently by one Watch.
func Watch(ctx context.Context, dir string, opts Options, rescan func(), log zerolog.Logger) error {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return err
	}
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		if err = w.Add(dir); err == nil {
			events, watchErrs = w.Events, w.Errors
		}
	}
	if err != nil {
		log.Warn().Err(err).Str("dir", dir).Dur("rescan_interval", opts.RescanInterval).Msg("cannot watch folder; rescanning periodically only")
	}
	rescan()
	ticker := time.NewTicker(opts.RescanInterval)
	defer ticker.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			log.Debug().Str("event", ev.String()).Msg("watched folder changed")
			debounce.Reset(opts.Debounce)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			log.Warn().Err(err).Str("dir", dir).Msg("watching folder")
			debounce.Reset(opts.Debounce)
		case <-debounce.C:
			rescan()
		case <-ticker.C:
			if w != nil && events != nil && len(w.WatchList()) == 0 {
				// The folder was removed and came back: watch it again.
				if err := w.Add(dir); err != nil {
					log.Warn().Err(err).Str("dir", dir).Msg("watching folder again")
				}
			}
			rescan()
		}
	}
}
