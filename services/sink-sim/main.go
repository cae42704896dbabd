// Command sink-sim runs the EnOS and Energisme emulators (HTTP) and an SFTP
// server for Energisme flat files, for `make run`, tests and benchmarks.
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/service"
)

func main() {
	var cfg Config
	service.Main("sink-sim", &cfg, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, cfg, log)
	})
}
