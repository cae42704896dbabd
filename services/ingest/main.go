// Command ingest reads Gizwits SNoti pushes and writes them to Kafka,
// ACKing each delivery only after Kafka acknowledged its record (acks=all).
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
)

func main() {
	var e environ
	config.Main("ingest", &e, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, e.config(), log)
	})
}
