package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// run serves the simulator until ctx is cancelled.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	a, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx, cfg.ShutdownTimeout)
}

// app is the simulator, its HTTP server (/healthz, /readyz, /metrics) and,
// on a port of its own, the control API and ledger under /sim/.
type app struct {
	sim     *snotisim.Server
	ops     *httpserver.Server
	control *http.Server
	ctlLn   net.Listener
	log     zerolog.Logger
}

func newApp(cfg Config, log zerolog.Logger) (*app, error) {
	sc, err := cfg.simConfig()
	if err != nil {
		return nil, err
	}
	sim, err := snotisim.New(sc, log)
	if err != nil {
		return nil, err
	}
	if cfg.CertFile == "" && cfg.CAOut != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.CAOut), 0o755); err != nil {
			return nil, fmt.Errorf("creating the SNOTI_SIM_CA_OUT directory: %w", err)
		}
		if err := os.WriteFile(cfg.CAOut, sim.CertPEM(), 0o644); err != nil {
			return nil, fmt.Errorf("writing SNOTI_SIM_CA_OUT: %w", err)
		}
		log.Info().Str("ca_file", cfg.CAOut).Msg("self-signed certificate written: point SNOTI_CA_FILE at it")
	}
	reg := httpserver.NewRegistry()
	if err := sim.RegisterMetrics(reg); err != nil {
		return nil, err
	}
	ops := httpserver.New(cfg.HTTP, log, reg)
	mux := http.NewServeMux()
	mux.Handle("/sim/", http.StripPrefix("/sim", sim.Handler()))
	control := &http.Server{Addr: cfg.ControlAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	return &app{sim: sim, ops: ops, control: control, log: log}, nil
}

// listenControl binds SNOTI_SIM_CONTROL_ADDR now, so a caller can learn it.
func (a *app) listenControl() (net.Addr, error) {
	if a.ctlLn == nil {
		ln, err := net.Listen("tcp", a.control.Addr)
		if err != nil {
			return nil, fmt.Errorf("listening on SNOTI_SIM_CONTROL_ADDR %s: %w", a.control.Addr, err)
		}
		a.ctlLn = ln
	}
	return a.ctlLn.Addr(), nil
}

// runControl serves the control API until ctx ends.
func (a *app) runControl(ctx context.Context) error {
	addr, err := a.listenControl()
	if err != nil {
		return err
	}
	a.log.Info().Str("addr", addr.String()).Msg("serving the /sim/ control API")
	errc := make(chan error, 1)
	go func() { errc <- a.control.Serve(a.ctlLn) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the control API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return a.control.Shutdown(sctx)
}

func (a *app) run(ctx context.Context, shutdownTimeout time.Duration) error {
	return service.Run(ctx, a.log, shutdownTimeout,
		service.Part{Name: "snoti-sim", Run: a.sim.Run},
		service.Part{Name: "http", Run: a.ops.Run},
		service.Part{Name: "control", Run: a.runControl},
	)
}
