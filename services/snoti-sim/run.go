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
	sim        *snotisim.Server
	ops        *httpserver.Server
	control    *httpPart
	enterprise *httpPart // nil when SNOTI_SIM_ENTERPRISE_API_ADDR is empty
	log        zerolog.Logger
}

// httpPart is one more HTTP listener of the simulator, bound before it
// serves so a caller can learn its address.
type httpPart struct {
	name, variable string
	srv            *http.Server
	ln             net.Listener
	log            zerolog.Logger
}

func newHTTPPart(name, variable, addr string, h http.Handler, log zerolog.Logger) *httpPart {
	return &httpPart{name: name, variable: variable, log: log, srv: &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}}
}

func (p *httpPart) listen() (net.Addr, error) {
	if p.ln == nil {
		ln, err := net.Listen("tcp", p.srv.Addr)
		if err != nil {
			return nil, fmt.Errorf("listening on %s %s: %w", p.variable, p.srv.Addr, err)
		}
		p.ln = ln
	}
	return p.ln.Addr(), nil
}

// run serves until ctx ends.
func (p *httpPart) run(ctx context.Context) error {
	addr, err := p.listen()
	if err != nil {
		return err
	}
	p.log.Info().Str("addr", addr.String()).Msg("serving the " + p.name)
	errc := make(chan error, 1)
	go func() { errc <- p.srv.Serve(p.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the %s: %w", p.name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(sctx)
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
	a := &app{sim: sim, ops: ops, log: log,
		control: newHTTPPart("/sim/ control API", "SNOTI_SIM_CONTROL_ADDR", cfg.ControlAddr, mux, log)}
	if cfg.EnterpriseAPIAddr != "" {
		api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{
			EnterpriseID: cfg.EnterpriseID, EnterpriseSecret: cfg.EnterpriseSecret,
			Products: sim.EnterpriseProducts(cfg.ProductSecret), Devices: sim,
		}, log)
		if err != nil {
			return nil, err
		}
		emux := http.NewServeMux()
		api.Register(emux)
		a.enterprise = newHTTPPart("Gizwits Enterprise API", "SNOTI_SIM_ENTERPRISE_API_ADDR", cfg.EnterpriseAPIAddr, emux, log)
	}
	return a, nil
}

// listenControl binds SNOTI_SIM_CONTROL_ADDR now, so a caller can learn it.
func (a *app) listenControl() (net.Addr, error) { return a.control.listen() }

func (a *app) run(ctx context.Context, shutdownTimeout time.Duration) error {
	parts := []service.Part{
		{Name: "snoti-sim", Run: a.sim.Run},
		{Name: "http", Run: a.ops.Run},
		{Name: "control", Run: a.control.run},
	}
	if a.enterprise != nil {
		parts = append(parts, service.Part{Name: "enterprise-api", Run: a.enterprise.run})
	}
	return service.Run(ctx, a.log, shutdownTimeout, parts...)
}
