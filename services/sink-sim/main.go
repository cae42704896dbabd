// Command sink-sim runs the EnOS and Energisme emulators (HTTP) and an SFTP
// server for Energisme flat files, for `make run`, tests and benchmarks.
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
)

func main() {
	var e environ
	config.Main("sink-sim", &e, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, e.config(), log)
	})
}
