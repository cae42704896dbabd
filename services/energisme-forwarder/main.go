// Command energisme-forwarder sends device data to Energisme: raw status
// payloads from snoti.events.v1 by HTTP push, and decoded telemetry from
// device.telemetry.v1 as flat files over SFTP. Each part has its own
// consumer group and is enabled by its own variables.
package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
)

func main() {
	var e environ
	config.Main("energisme-forwarder", &e, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, e.config(), log)
	})
}
