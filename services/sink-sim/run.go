package main

import (
	"context"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// run serves the emulators until ctx is cancelled.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	a, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

// stackConfig maps the configuration onto the emulators' configuration.
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
