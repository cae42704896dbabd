package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Config is the logging part of every service's configuration.
type Config struct {
	Level  string `envconfig:"LOG_LEVEL" default:"info"`
	Format string `envconfig:"LOG_FORMAT" default:"json"`
}

// Validate reports an unknown level or format.
func (c Config) Validate() error {
	var errs []error
	if _, err := zerolog.ParseLevel(c.Level); err != nil || c.Level == "" {
		errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: must be one of trace, debug, info, warn, error", c.Level))
	}
	if c.Format != "json" && c.Format != "console" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT=%q: must be json or console", c.Format))
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
