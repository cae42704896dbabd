// Command decoder turns raw device payloads from snoti.events.v1 into
// named, typed data points on device.telemetry.v1.
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
)

func main() {
	var e environ
	config.Main("decoder", &e, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, e.config(), log)
	})
}
