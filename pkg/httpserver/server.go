package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Config is the HTTP part of every service's configuration (pkg/config
// reads Addr from HTTP_ADDR).
type Config struct {
	Addr string
	// ReadTimeout, WriteTimeout and IdleTimeout bound reading a request,
	// writing its response and keeping an idle connection (defaults
	// ReadTimeout, WriteTimeout and IdleTimeout below; not variables).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// Pprof serves Go's runtime profiles (net/http/pprof) under
	// /debug/pprof/ on the same address: CPU, heap, goroutines, for
	// finding where a stage spends its time. Off by default, because a
	// profile shows the process's memory (records, credentials).
	Pprof bool
}

// Validate checks that Addr is a host:port.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fielderr.Bad("Addr", c.Addr, "must be host:port, e.g. :8080")
	}
	return nil
}

// Timeouts of the operational server: requests are small and answered at
// once, so anything slower is a stuck or hostile client.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
)

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// ReadinessCheck reports why the service is not ready, or nil.
type ReadinessCheck func(ctx context.Context) error

// NewRegistry returns a Prometheus registry with the Go runtime and process
// collectors, one per service instance so tests can run several in a process.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Server serves /healthz, /readyz, /metrics and any extra handlers.
type Server struct {
	log    zerolog.Logger
	mux    *http.ServeMux
	srv    *http.Server
	mu     sync.Mutex
	checks map[string]ReadinessCheck
	ln     net.Listener
}

// New builds a server for cfg; gatherer is what /metrics exposes.
func New(cfg Config, log zerolog.Logger, gatherer prometheus.Gatherer) *Server {
	s := &Server{
		log:    log.With().Str("component", "http").Logger(),
		mux:    http.NewServeMux(),
		checks: map[string]ReadinessCheck{},
	}
	s.srv = &http.Server{
		Addr:    cfg.Addr,
		Handler: s.mux,
		// A client that sends slowly, reads slowly or idles holds a
		// connection and a goroutine: each phase is bounded. WriteTimeout
		// leaves room for a large /metrics scrape and /readyz's 2 s checks.
		ReadHeaderTimeout: min(ReadHeaderTimeout, orDefault(cfg.ReadTimeout, ReadTimeout)),
		ReadTimeout:       orDefault(cfg.ReadTimeout, ReadTimeout),
		WriteTimeout:      orDefault(cfg.WriteTimeout, WriteTimeout),
		IdleTimeout:       orDefault(cfg.IdleTimeout, IdleTimeout),
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	if cfg.Pprof {
		s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return s
}

// AddReadiness registers a named check that /readyz runs on every request.
// Safe for concurrent use.
func (s *Server) AddReadiness(name string, check ReadinessCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = check
}

// Handle registers an extra handler (a simulator's control API, say).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make(map[string]ReadinessCheck, len(s.checks))
	for n, c := range s.checks {
		checks[n] = c
	}
	s.mu.Unlock()
	sort.Strings(names)

	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := http.StatusOK
	report := make(map[string]string, len(names))
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			status = http.StatusServiceUnavailable
			report[n] = err.Error()
		} else {
			report[n] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(report)
}

// Listen binds the address now, so a caller can learn it (with port 0)
// before Run. Run calls it when the caller did not.
func (s *Server) Listen() (net.Addr, error) {
	if s.ln != nil {
		return s.ln.Addr(), nil
	}
	ln, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", s.srv.Addr, err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Run serves until ctx is cancelled, then shuts down gracefully, giving
// in-flight requests up to five seconds.
func (s *Server) Run(ctx context.Context) error {
	addr, err := s.Listen()
	if err != nil {
		return err
	}
	s.log.Info().Str("addr", addr.String()).Msg("serving health and metrics")
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down HTTP: %w", err)
	}
	return nil
}
