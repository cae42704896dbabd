package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// logf prints one time-stamped progress line.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run is the whole chaos run; its result is the exit code.
func run(cfg config, sigs <-chan os.Signal) int {
	logf("chaos: seed %d (CHAOS_SEED=%d repeats it), %s of faults, %d devices at %g events/s (%d events), a fault about every %s",
		cfg.seed, cfg.seed, cfg.duration, cfg.devices, cfg.rate, cfg.events(), cfg.faultEvery)
	// Only this run's data: the cluster, the simulators' state, the logs.
	for _, d := range []string{"kafka", "run"} {
		if err := os.RemoveAll(filepath.Join(cfg.dir, d)); err != nil {
			logf("chaos: %v", err)
			return 2
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case sig := <-sigs:
			logf("chaos: %s: stopping", sig)
			cancel()
		case <-ctx.Done():
		}
	}()

	s, err := newStack(cfg, logf)
	if err != nil {
		logf("chaos: %v", err)
		return 2
	}
	defer func() {
		logf("stopping the services (input first), then the cluster; logs in %s", filepath.Join(s.plan.RunDir, "logs"))
		s.stopAll()
	}()
	if err := s.start(ctx); err != nil {
		logf("chaos: %v", err)
		return 2
	}
	logf("stack up; waiting for the first ACK")
	if err := waitFor(ctx, 3*time.Minute, func() bool {
		sum, err := s.ledger(ctx)
		return err == nil && sum.Acks > 0
	}); err != nil {
		if ctx.Err() == nil {
			logf("chaos: no ACK within 3 minutes (see the ingest's log in %s)", filepath.Join(s.plan.RunDir, "logs"))
		}
		return 2
	}
	lag := s.monitorLag(ctx)

	logf("injecting faults for %s", cfg.duration)
	ictx, icancel := context.WithTimeout(ctx, cfg.duration)
	in := s.inject(ictx, cfg.seed)
	icancel()
	if ctx.Err() != nil {
		return 2
	}
	if err := s.clear(ctx); err != nil {
		logf("chaos: clearing the faults: %v", err)
		return 2
	}
	// The drain is timed from the end of the injection: the recovery of
	// the last faults (a node catching up, a program restarting) is part
	// of it.
	drainFrom := in.ended
	logf("faults over (the last ones recovered after %s) and cleared; draining (at most %s)", time.Since(in.ended).Round(100*time.Millisecond), cfg.drain)
	r := result{faultCounts: in.counts, faultErrors: in.errors}
	r.faults, r.faultTotal = in.summary()
	dctx, dcancel := context.WithTimeout(ctx, cfg.drain)
	r.drained = s.waitDrained(dctx) == nil
	dcancel()
	r.drain = time.Since(drainFrom)
	if ctx.Err() != nil {
		return 2
	}
	r.maxLag = lag.snapshot()
	r.unplanned = s.unplannedExits()
	vctx, vcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer vcancel()
	if err := s.verify(vctx, &r); err != nil {
		logf("chaos: verifying: %v", err)
		return 2
	}
	failures := r.failures(cfg)
	r.print(os.Stdout, cfg, failures)
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// waitFor polls cond every 500 ms until it holds or timeout.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// waitDrained waits until every service and node runs, the fleet has
// published everything and snoti-sim has every message ACKed, and every
// group has committed everything.
func (s *stack) waitDrained(ctx context.Context) error {
	c := s.kafkaClient()
	want := s.cfg.events()
	var why string
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		why = s.drainedWhy(ctx, c, want)
		if why == "" {
			return nil
		}
		if time.Since(last) >= 15*time.Second {
			logf("draining: %s", why)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			logf("not drained: %s", why)
			return ctx.Err()
		case <-tick.C:
		}
	}
}
