package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// app is sink-sim with every listener bound, so a test can learn the
// addresses (with port 0) before it runs.
type app struct {
	cfg     Config
	log     zerolog.Logger
	stack   *sinksim.Stack
	ops     *httpserver.Server
	sims    *http.Server
	ln      net.Listener
	opsAddr net.Addr
}

// newApp builds the emulators, binds SINK_SIM_ADDR and HTTP_ADDR, starts
// the SFTP server and writes its known_hosts file. Call run to serve.
func newApp(cfg Config, log zerolog.Logger) (*app, error) {
	stackCfg, err := stackConfig(cfg)
	if err != nil {
		return nil, err
	}
	stack, err := sinksim.NewStack(stackCfg, log)
	if err != nil {
		return nil, fmt.Errorf("building emulators: %w", err)
	}
	reg := httpserver.NewRegistry()
	registerMetrics(reg, stack)
	a := &app{
		cfg:   cfg,
		log:   log,
		stack: stack,
		ops:   httpserver.New(cfg.HTTP, log, reg),
		sims:  newEmulatorServer(stack),
	}
	if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listening on SINK_SIM_ADDR %s: %w", cfg.Addr, err)
	}
	if a.opsAddr, err = a.ops.Listen(); err != nil {
		_ = a.ln.Close()
		return nil, err
	}
	if err := stack.Start(); err != nil {
		_ = a.ln.Close()
		return nil, err
	}
	if stack.SFTP != nil {
		if err := writeKnownHosts(cfg.SFTPKnownHostsFile, cfg.SFTPKnownHostsNames, stack.SFTP); err != nil {
			_ = a.ln.Close()
			_ = stack.Stop(context.Background())
			return nil, err
		}
	}
	return a, nil
}

// addr is the bound emulator address.
func (a *app) addr() string { return a.ln.Addr().String() }

// run serves until ctx is cancelled, then stops the emulators, the
// operational endpoints and the SFTP server, in that order.
func (a *app) run(ctx context.Context) error {
	a.log.Info().Str("addr", a.addr()).Str("energisme_path", a.cfg.EnergismePath).Msg("serving EnOS and Energisme emulators")
	parts := []service.Part{
		{Name: "emulators", Run: a.serveEmulators},
		{Name: "http", Run: a.ops.Run},
		{Name: "sftp", Run: func(ctx context.Context) error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return a.stack.Stop(sctx)
		}},
	}
	return service.Run(ctx, a.log, a.cfg.ShutdownTimeout, parts...)
}

func (a *app) serveEmulators(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.sims.Serve(a.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving emulators: %w", err)
	case <-ctx.Done():
	}
	// A short grace, then close: requests held by injected latency would
	// otherwise delay the exit, and connections a client opened but never
	// used count as busy for five seconds.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := a.sims.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutting down emulators: %w", err)
		}
		_ = a.sims.Close()
	}
	return nil
}

// emulatorWriteTimeout bounds writing one emulator response; it is above
// any latency fault a test injects to exercise a client's own timeout
// (EnOS and Energisme clients default to 30 s).
const emulatorWriteTimeout = 2 * time.Minute

// newEmulatorServer serves the emulators with every phase of a request
// bounded, so a stuck client cannot hold a connection forever.
func newEmulatorServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      emulatorWriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
}
