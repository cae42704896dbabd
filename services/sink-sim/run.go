package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// run serves the emulators until ctx is cancelled.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	stackCfg, err := stackConfig(cfg)
	if err != nil {
		return err
	}
	stack, err := sinksim.NewStack(stackCfg, log)
	if err != nil {
		return fmt.Errorf("building emulators: %w", err)
	}

	reg := httpserver.NewRegistry()
	registerMetrics(reg, stack)
	ops := httpserver.New(cfg.HTTP, log, reg)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on SINK_SIM_ADDR %s: %w", cfg.Addr, err)
	}
	sims := &http.Server{Handler: stack, ReadHeaderTimeout: 5 * time.Second}
	log.Info().Str("addr", ln.Addr().String()).Str("energisme_path", cfg.EnergismePath).Msg("serving EnOS and Energisme emulators")

	parts := []service.Part{
		{Name: "emulators", Run: func(ctx context.Context) error { return serve(ctx, sims, ln) }},
		{Name: "http", Run: ops.Run},
	}
	if stack.SFTP != nil {
		if err := stack.Start(); err != nil {
			_ = ln.Close()
			return err
		}
		if err := writeKnownHosts(cfg.SFTPKnownHostsFile, stack.SFTP); err != nil {
			_ = ln.Close()
			_ = stack.Stop(context.WithoutCancel(ctx))
			return err
		}
		parts = append(parts, service.Part{Name: "sftp", Run: func(ctx context.Context) error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return stack.Stop(sctx)
		}})
	}
	return service.Run(ctx, log, cfg.ShutdownTimeout, parts...)
}

func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving emulators: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down emulators: %w", err)
	}
	return nil
}

func stackConfig(cfg Config) (sinksim.StackConfig, error) {
	known, err := cfg.knownDevices()
	if err != nil {
		return sinksim.StackConfig{}, err
	}
	sc := sinksim.StackConfig{
		EnOS: sinksim.EnOSConfig{
			Credentials:  map[string]string{cfg.EnOSAccessKey: cfg.EnOSSecretKey},
			OrgID:        cfg.EnOSOrgID,
			TokenTTL:     cfg.EnOSTokenTTL,
			KnownDevices: known,
		},
		Energisme: sinksim.EnergismeConfig{Token: cfg.EnergismeToken, Source: cfg.EnergismeSource, Path: cfg.EnergismePath},
	}
	if cfg.SFTPAddr == "" {
		return sc, nil
	}
	if err := os.MkdirAll(cfg.SFTPRoot, 0o755); err != nil {
		return sc, fmt.Errorf("creating SINK_SIM_SFTP_ROOT: %w", err)
	}
	hostKey, err := loadOrCreateHostKey(cfg.SFTPHostKeyFile)
	if err != nil {
		return sc, err
	}
	sftpCfg := &sinksim.SFTPConfig{Addr: cfg.SFTPAddr, Root: cfg.SFTPRoot, HostKey: hostKey}
	if cfg.SFTPPassword != "" {
		sftpCfg.Passwords = map[string]string{cfg.SFTPUser: cfg.SFTPPassword}
	}
	if cfg.SFTPAuthorizedKeys != "" {
		keys, err := readAuthorizedKeys(cfg.SFTPAuthorizedKeys)
		if err != nil {
			return sc, err
		}
		sftpCfg.AuthorizedKeys = map[string][]ssh.PublicKey{cfg.SFTPUser: keys}
	}
	sc.SFTP = sftpCfg
	return sc, nil
}

// loadOrCreateHostKey reads the host key, or generates an ed25519 key and
// writes it so the forwarder's known_hosts stays valid across restarts.
func loadOrCreateHostKey(path string) (ssh.Signer, error) {
	if path == "" {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generating SFTP host key: %w", err)
		}
		return ssh.NewSignerFromKey(priv)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("parsing SINK_SIM_SFTP_HOST_KEY_FILE=%q: %w", path, err)
		}
		return signer, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading SINK_SIM_SFTP_HOST_KEY_FILE: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating SFTP host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sink-sim")
	if err != nil {
		return nil, fmt.Errorf("encoding SFTP host key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating the host key directory: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("writing SINK_SIM_SFTP_HOST_KEY_FILE: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

func readAuthorizedKeys(path string) ([]ssh.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading SINK_SIM_SFTP_AUTHORIZED_KEYS: %w", err)
	}
	var keys []ssh.PublicKey
	for len(b) > 0 {
		key, _, _, rest, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			break // no more keys
		}
		keys = append(keys, key)
		b = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("SINK_SIM_SFTP_AUTHORIZED_KEYS=%q: holds no public key", path)
	}
	return keys, nil
}

// writeKnownHosts writes a known_hosts line for the SFTP server as reached
// from this machine.
func writeKnownHosts(path string, srv *sinksim.SFTPServer) error {
	if path == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		return fmt.Errorf("parsing SFTP address: %w", err)
	}
	line := srv.KnownHostsLine(net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the known_hosts directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing SINK_SIM_SFTP_KNOWN_HOSTS_FILE: %w", err)
	}
	return nil
}

// registerMetrics exposes the emulators' counters.
func registerMetrics(reg *prometheus.Registry, s *sinksim.Stack) {
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "sinksim", Name: name, Help: help}, f))
	}
	gauge("enos_requests_accepted", "EnOS integration requests accepted.", func() float64 { return float64(s.EnOS.Stats().Accepted) })
	gauge("enos_requests_rejected", "EnOS integration requests rejected.", func() float64 { return float64(s.EnOS.Stats().Rejected) })
	gauge("enos_faults_injected", "EnOS requests answered with an injected fault.", func() float64 { return float64(s.EnOS.Stats().Faults) })
	gauge("enos_points_accepted", "EnOS measurement points accepted.", func() float64 { return float64(s.EnOS.Stats().Points) })
	gauge("energisme_uplinks_accepted", "Energisme pushes accepted.", func() float64 { return float64(s.Energisme.Stats().Accepted) })
	gauge("energisme_uplinks_rejected", "Energisme pushes rejected.", func() float64 { return float64(s.Energisme.Stats().Rejected) })
	gauge("energisme_faults_injected", "Energisme pushes answered with an injected fault.", func() float64 { return float64(s.Energisme.Stats().Faults) })
}
