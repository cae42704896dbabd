package sinksim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/pkg/sftp"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SFTPConfig configures the SFTP emulator.
type SFTPConfig struct {
	// Addr is the listen address (default 127.0.0.1:0). After the first
	// Start the resolved address is kept, so a restart listens on the same
	// port.
	Addr string
	// Root is the directory served (it must exist); clients cannot leave it.
	Root string
	// Passwords maps user → password for password authentication.
	Passwords map[string]string
	// AuthorizedKeys maps user → public keys for key authentication.
	AuthorizedKeys map[string][]ssh.PublicKey
	// HostKey is the server's key (default: a new ed25519 key).
	HostKey ssh.Signer
	// ExtraHostKeys are further host keys, of other types, that the
	// server also offers, as an OpenSSH server with its default ECDSA,
	// ed25519 and RSA keys does; KnownHostsLine lists HostKey only.
	ExtraHostKeys []ssh.Signer
	// NoPosixRename makes posix-rename@openssh.com requests fail with "op
	// unsupported", to exercise a client's remove-then-rename fallback.
	NoPosixRename bool
}

// SFTPServer is an SFTP server over SSH (pkg/sftp's request server on
// golang.org/x/crypto/ssh) serving a root directory, with password and
// public-key authentication. Stop and Start simulate an outage. All methods
// are safe for concurrent use.
type SFTPServer struct {
	cfg    SFTPConfig
	log    zerolog.Logger
	ssh    *ssh.ServerConfig
	fs     *rootFS
	notify notifier

	mu    sync.Mutex
	addr  string
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	ops   []SFTPOp
}

// NewSFTPServer validates cfg and returns a stopped server; call Start.
func NewSFTPServer(cfg SFTPConfig, log zerolog.Logger) (*SFTPServer, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if fi, err := os.Stat(cfg.Root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("SFTP emulator: Root=%q: must be an existing directory", cfg.Root)
	}
	if len(cfg.Passwords) == 0 && len(cfg.AuthorizedKeys) == 0 {
		return nil, errors.New("SFTP emulator: no users: set Passwords or AuthorizedKeys")
	}
	if cfg.HostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generating SFTP host key: %w", err)
		}
		if cfg.HostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("generating SFTP host key: %w", err)
		}
	}
	s := &SFTPServer{cfg: cfg, log: log.With().Str("component", "sftp-sim").Logger(), addr: cfg.Addr, conns: map[net.Conn]struct{}{}}
	s.fs = &rootFS{root: cfg.Root, noPosixRename: cfg.NoPosixRename, record: s.record}
	s.ssh = &ssh.ServerConfig{
		PasswordCallback: func(md ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if want, ok := cfg.Passwords[md.User()]; ok && want == string(pw) {
				return nil, nil
			}
			return nil, fmt.Errorf("password rejected for %q", md.User())
		},
		PublicKeyCallback: func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range cfg.AuthorizedKeys[md.User()] {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, fmt.Errorf("public key rejected for %q", md.User())
		},
	}
	s.ssh.AddHostKey(cfg.HostKey)
	for _, k := range cfg.ExtraHostKeys {
		s.ssh.AddHostKey(k)
	}
	return s, nil
}

// Start listens and serves in the background. It fails if already started.
func (s *SFTPServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("SFTP emulator already started")
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.addr, err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.accept(ln)
	s.log.Info().Str("addr", s.addr).Msg("SFTP emulator listening")
	return nil
}

// Stop closes the listener and every connection, and waits for their
// goroutines or ctx. Stopping a stopped server does nothing.
func (s *SFTPServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping SFTP emulator: %w", ctx.Err())
	}
}

// Register adds the outage control routes to mux:
//
//	POST /sim/sftp/stop, /sim/sftp/start   simulate an outage and recovery
//	GET  /sim/sftp/ops                     the log of file operations
func (s *SFTPServer) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /sim/sftp/stop", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Stop(r.Context()); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sim/sftp/start", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Start(); err != nil {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sim/sftp/ops", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Ops()) })
}

// Running reports whether the server is listening.
func (s *SFTPServer) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln != nil
}

// Addr returns the listen address (resolved after the first Start).
func (s *SFTPServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// HostKey returns the server's public host key.
func (s *SFTPServer) HostKey() ssh.PublicKey { return s.cfg.HostKey.PublicKey() }

// KnownHostsLine returns a known_hosts line for the server's key, for the
// given host:port addresses (default: the listen address, resolved after
// Start).
func (s *SFTPServer) KnownHostsLine(addrs ...string) string {
	if len(addrs) == 0 {
		addrs = []string{s.Addr()}
	}
	hosts := make([]string, len(addrs))
	for i, a := range addrs {
		hosts[i] = knownhosts.Normalize(a)
	}
	return knownhosts.Line(hosts, s.HostKey())
}

// Ops returns a copy of the log of file operations.
func (s *SFTPServer) Ops() []SFTPOp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SFTPOp{}, s.ops...)
}

// WaitFor blocks until cond returns true or ctx ends; cond is called at
// first and after each file operation.
func (s *SFTPServer) WaitFor(ctx context.Context, cond func(s *SFTPServer) bool) error {
	return s.notify.wait(ctx, func() bool { return cond(s) })
}

func (s *SFTPServer) record(op SFTPOp) {
	s.mu.Lock()
	s.ops = append(s.ops, op)
	s.mu.Unlock()
	s.notify.changed()
}

func (s *SFTPServer) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ln != ln { // stopped meanwhile
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(conn)
	}
}

func (s *SFTPServer) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		_ = conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	sconn, chans, reqs, err := ssh.NewServerConn(conn, s.ssh)
	if err != nil {
		s.log.Debug().Err(err).Msg("SSH handshake failed")
		return
	}
	defer sconn.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() { s.serveSession(ch, chReqs) })
	}
}

// serveSession answers the session's requests and runs the SFTP subsystem
// once asked for it; the request channel is serviced throughout.
func (s *SFTPServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ch.Close()
	started := false
	for req := range reqs {
		ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp" && !started
		_ = req.Reply(ok, nil)
		if !ok {
			continue
		}
		started = true
		wg.Go(func() {
			rs := sftp.NewRequestServer(ch, s.fs.handlers())
			if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
				s.log.Debug().Err(err).Msg("SFTP session ended")
			}
			_ = rs.Close()
		})
	}
}
