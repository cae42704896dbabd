package main

import (
	"context"
	"fmt"
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

// app is the simulator and its HTTP server: /healthz, /readyz, /metrics,
// and the control API and ledger under /sim/.
type app struct {
	sim *snotisim.Server
	ops *httpserver.Server
	log zerolog.Logger
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
	ops.Handle("/sim/", http.StripPrefix("/sim", sim.Handler()))
	return &app{sim: sim, ops: ops, log: log}, nil
}

func (a *app) run(ctx context.Context, shutdownTimeout time.Duration) error {
	return service.Run(ctx, a.log, shutdownTimeout,
		service.Part{Name: "snoti-sim", Run: a.sim.Run},
		service.Part{Name: "http", Run: a.ops.Run},
	)
}
