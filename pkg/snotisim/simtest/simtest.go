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
	sim, err := snotisim.New(cfg, zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sim.Close(ctx)
	})
	ca := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sim.CertPEM(), 0o600); err != nil {
		tb.Fatal(err)
	}
	return sim, ca
}
