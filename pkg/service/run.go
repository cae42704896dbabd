package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// Part is one long-lived piece of a service: the SNoti loop, a consumer, the
// HTTP server. Run blocks until its context is cancelled (returning nil or
// the context's error) or until it fails.
type Part struct {
	Name string
	Run  func(ctx context.Context) error
}

// Run starts every part and waits. When ctx is cancelled (a signal) or any
// part fails, it stops the parts one at a time in the order given — list the
// inputs first and the outputs last, so in-flight work drains into parts that
// are still running — waiting for each to return. The whole shutdown is
// bounded by timeout; a part that has not returned by then is reported and
// abandoned. Run returns the first part failure, or nil on a clean stop.
func Run(ctx context.Context, log zerolog.Logger, timeout time.Duration, parts ...Part) error {
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var (
		g        errgroup.Group
		failOnce sync.Once
		failed   = make(chan struct{})
		firstErr error
		runs     = make([]running, len(parts))
	)
	for i, p := range parts {
		// Parts are cancelled individually, never by the caller's ctx
		// directly, so the shutdown order is ours to choose.
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		runs[i] = running{cancel: cancel, done: make(chan struct{})}
		g.Go(func() error {
			defer close(runs[i].done)
			err := p.Run(pctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				failOnce.Do(func() {
					firstErr = fmt.Errorf("%s: %w", p.Name, err)
					close(failed)
				})
				return err
			}
			if pctx.Err() == nil {
				// A long-lived part that returns on its own ends the service.
				failOnce.Do(func() {
					firstErr = fmt.Errorf("%s stopped unexpectedly", p.Name)
					close(failed)
				})
			}
			return nil
		})
	}

	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case <-failed:
		log.Error().Err(firstErr).Msg("a part failed, shutting down")
	}

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i, r := range runs {
		r.cancel()
		select {
		case <-r.done:
			log.Debug().Str("part", parts[i].Name).Msg("stopped")
		case <-deadline.C:
			for j := i; j < len(runs); j++ {
				runs[j].cancel()
			}
			return fmt.Errorf("shutting down: %s did not stop within %s", parts[i].Name, timeout)
		}
	}
	_ = g.Wait()
	return firstErr
}
