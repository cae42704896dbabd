package logging

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Config is the logging part of every service's configuration (pkg/config
// reads it from LOG_LEVEL and LOG_FORMAT).
type Config struct {
	Level  string
	Format string
}

// Validate reports an unknown level or format.
func (c Config) Validate() error {
	var errs []error
	if _, err := zerolog.ParseLevel(c.Level); err != nil || c.Level == "" {
		errs = append(errs, fielderr.Bad("Level", c.Level, "must be one of trace, debug, info, warn, error"))
	}
	if c.Format != "json" && c.Format != "console" {
		errs = append(errs, fielderr.Bad("Format", c.Format, "must be json or console"))
	}
	return errors.Join(errs...)
}

// New returns a logger writing to stderr, tagged with the service name.
func New(cfg Config, service string) (zerolog.Logger, error) {
	return NewTo(os.Stderr, cfg, service)
}

// NewTo is New with an explicit writer, for tests and tools.
func NewTo(w io.Writer, cfg Config, service string) (zerolog.Logger, error) {
	if err := cfg.Validate(); err != nil {
		return zerolog.Nop(), err
	}
	level, _ := zerolog.ParseLevel(cfg.Level)
	if cfg.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339Nano}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", service).Logger(), nil
}
