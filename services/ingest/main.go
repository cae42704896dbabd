// Command ingest reads Gizwits SNoti pushes and writes them to Kafka,
// ACKing each delivery only after Kafka acknowledged its record (acks=all).
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/service"
)

func main() {
	var cfg Config
	service.Main("ingest", &cfg, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, cfg, log)
	})
}
