package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/logging"
)

// Baser lets Main find the shared part of a service's environment: a spec
// embedding Base is one.
type Baser interface{ BaseConfig() Base }

// BaseConfig returns b itself; embedding Base makes a spec a Baser.
func (b Base) BaseConfig() Base { return b }

// Main is the body of a service's main function. It loads spec from the
// environment (exiting 2 with every problem listed when it is invalid, a
// malformed GOGC among them), sets the garbage collector (Runtime: GOGC
// and GOMEMLIMIT, or the project's defaults, the memory limit the spec's
// own when it is a MemoryLimiter), builds the logger, and calls run with a
// context that is cancelled on SIGINT or SIGTERM, after logging the
// collector's setting and a warning for each setting that weakens the
// transport (Kafka.Warnings). It exits 1 when run fails and 0 otherwise.
// run turns spec into the service's typed configuration.
func Main(name string, spec Baser, run func(ctx context.Context, log zerolog.Logger) error) {
	limitMiB := int64(DefaultMemoryLimitMiB)
	if l, ok := spec.(MemoryLimiter); ok {
		limitMiB = l.DefaultMemoryLimitMiB()
	}
	rt, rtErr := RuntimeFrom(os.Getenv, limitMiB)
	if err := errors.Join(Load(spec), rtErr); err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid configuration:\n%v\n", name, err)
		os.Exit(2)
	}
	rt.Apply()
	log, err := logging.New(spec.BaseConfig().Log.Config(), name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	gcPercent, memoryLimit := RuntimeInEffect()
	log.Info().Uint64("gc_percent", gcPercent).Uint64("memory_limit_bytes", memoryLimit).
		Msg("Go garbage collector (GOGC, GOMEMLIMIT; unset: the project's defaults)")
	for _, w := range spec.BaseConfig().Kafka.Warnings() {
		log.Warn().Msg(w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error().Err(err).Msg("exiting")
		stop()
		os.Exit(1)
	}
	log.Info().Msg("stopped")
}
