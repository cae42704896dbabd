package sinksim

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// StackConfig configures every emulator of a Stack.
type StackConfig struct {
	EnOS      EnOSConfig
	Energisme EnergismeConfig
	// SFTP, when not nil, adds an SFTP server (started by Start).
	SFTP *SFTPConfig
}

// Stack is the EnOS and Energisme emulators behind one HTTP handler, plus
// an optional SFTP server: what sink-sim runs, and what an integration test
// starts in-process with httptest.NewServer(stack) and stack.Start().
type Stack struct {
	EnOS      *EnOS
	Energisme *Energisme
	// SFTP is nil when StackConfig.SFTP was nil.
	SFTP *SFTPServer
	mux  *http.ServeMux
}

// NewStack builds the emulators. The SFTP server is not started yet.
func NewStack(cfg StackConfig, log zerolog.Logger) (*Stack, error) {
	e, err := NewEnOS(cfg.EnOS, log)
	if err != nil {
		return nil, err
	}
	g, err := NewEnergisme(cfg.Energisme, log)
	if err != nil {
		return nil, err
	}
	for _, prefix := range []string{"/apim-token-service/", "/connect-service/"} {
		if strings.HasPrefix(g.cfg.Path, prefix) {
			return nil, fmt.Errorf("Energisme emulator: Path=%q: clashes with the EnOS endpoints under %s", g.cfg.Path, prefix)
		}
	}
	s := &Stack{EnOS: e, Energisme: g, mux: http.NewServeMux()}
	e.Register(s.mux)
	g.Register(s.mux)
	if cfg.SFTP != nil {
		if s.SFTP, err = NewSFTPServer(*cfg.SFTP, log); err != nil {
			return nil, err
		}
		s.SFTP.Register(s.mux)
	}
	return s, nil
}

// ServeHTTP serves the EnOS and Energisme endpoints and every /sim/ control
// route.
func (s *Stack) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start starts the SFTP server, if any.
func (s *Stack) Start() error {
	if s.SFTP == nil {
		return nil
	}
	if err := s.SFTP.Start(); err != nil {
		return fmt.Errorf("starting SFTP emulator: %w", err)
	}
	return nil
}

// Stop stops the SFTP server, if any, within ctx.
func (s *Stack) Stop(ctx context.Context) error {
	if s.SFTP == nil {
		return nil
	}
	return s.SFTP.Stop(ctx)
}
