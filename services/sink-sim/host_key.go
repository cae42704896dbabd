package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

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
// under each of names.
func writeKnownHosts(path string, names []string, srv *sinksim.SFTPServer) error {
	if path == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		return fmt.Errorf("parsing SFTP address: %w", err)
	}
	if len(names) == 0 {
		names = []string{"localhost", "127.0.0.1"}
	}
	addrs := make([]string, 0, len(names))
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			addrs = append(addrs, net.JoinHostPort(n, port))
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("SINK_SIM_SFTP_KNOWN_HOSTS_NAMES has no name: list the host names clients use, e.g. localhost,127.0.0.1")
	}
	line := srv.KnownHostsLine(addrs...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the known_hosts directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing SINK_SIM_SFTP_KNOWN_HOSTS_FILE: %w", err)
	}
	return nil
}
