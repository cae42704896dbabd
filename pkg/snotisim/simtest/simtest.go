// Package simtest starts a snoti-sim server for a test: started, closed
// when the test ends, its CA certificate written to a file for the client.
package simtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// Start starts a simulator with cfg, closed at the end of the test, and
// returns it with the path of a PEM file holding its CA certificate
// (SNOTI_CA_FILE for a client).
func Start(tb testing.TB, cfg snotisim.Config) (*snotisim.Server, string) {
	tb.Helper()
	sim, ca := New(tb, cfg)
	if err := sim.Start(); err != nil {
		tb.Fatal(err)
	}
	return sim, ca
}

// New is Start without the start: the simulator listens, its CA file is
// written and it is closed at the end of the test, but it serves nothing
// and its fleet publishes nothing until the test calls sim.Start (a chain
// test starts it once the stages after the ingest are up).
func New(tb testing.TB, cfg snotisim.Config) (*snotisim.Server, string) {
	tb.Helper()
	sim, err := snotisim.New(cfg, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sim.Close(ctx); err != nil {
			tb.Errorf("closing the simulator: %v", err)
		}
	})
	return sim, CAFile(tb, sim)
}

// CAFile writes sim's CA certificate to a PEM file in a directory removed
// at the end of the test and returns its path.
func CAFile(tb testing.TB, sim *snotisim.Server) string {
	tb.Helper()
	ca := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sim.CertPEM(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return ca
}
