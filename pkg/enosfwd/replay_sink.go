package enosfwd

import (
	"context"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// ReplaySink is a replay.SinkFactory: it reads Config from the ENOS_*
// variables the way the forwarder does and builds the forwarder's handler,
// posting everything as backfill when env.Replay is set (and, in any case,
// every batch whose context consume.IsReplay marks). bridgectl registers it
// as the "enos" sink's Factory.
func ReplaySink(_ context.Context, env replay.SinkEnv) (consume.Handler, error) {
	cfg, err := LoadConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return New(cfg, Options{Replay: env.Replay, Codec: env.Codec}, env.Log, env.Metrics)
}

var _ replay.SinkFactory = ReplaySink
