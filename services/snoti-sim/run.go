package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// run serves the simulator until ctx is cancelled. The control API and
// the ledger are under /sim/ on HTTP_ADDR, beside /healthz, /readyz and
// /metrics.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	sc, err := cfg.simConfig()
	if err != nil {
		return err
	}
	srv, err := snotisim.New(sc, log)
	if err != nil {
		return err
	}
	if cfg.CertFile == "" && cfg.CAOut != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.CAOut), 0o755); err != nil {
			return fmt.Errorf("creating the SNOTI_SIM_CA_OUT directory: %w", err)
		}
		if err := os.WriteFile(cfg.CAOut, srv.CertPEM(), 0o644); err != nil {
			return fmt.Errorf("writing SNOTI_SIM_CA_OUT: %w", err)
		}
		log.Info().Str("ca_file", cfg.CAOut).Msg("self-signed certificate written: point SNOTI_CA_FILE at it")
	}
	reg := httpserver.NewRegistry()
	if err := srv.RegisterMetrics(reg); err != nil {
		return err
	}
	ops := httpserver.New(cfg.HTTP, log, reg)
	ops.Handle("/sim/", http.StripPrefix("/sim", srv.Handler()))
	return service.Run(ctx, log, cfg.ShutdownTimeout,
		service.Part{Name: "snoti-sim", Run: srv.Run},
		service.Part{Name: "http", Run: ops.Run},
	)
}
