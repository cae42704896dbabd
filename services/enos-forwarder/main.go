// Command enos-forwarder sends decoded telemetry (device.telemetry.v1) and
// device fault, alert and online/offline events (snoti.events.v1) to the
// EnOS real-time message integration API, in consumer group "enos".
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
)

func main() {
	var e environ
	config.Main("enos-forwarder", &e, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, e.config(), log)
	})
}
