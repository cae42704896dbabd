// Command snoti-sim runs a protocol-faithful Gizwits SNoti server (TLS)
// with virtual devices, fault injection and a delivery ledger, for
// `make run`, tests and benchmarks. See pkg/snotisim.
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/service"
)

func main() {
	var cfg Config
	service.Main("snoti-sim", &cfg, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, cfg, log)
	})
}
