package enosfwd

import (
	"context"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// ReplaySink returns a replay.SinkFactory building the forwarder's handler
// from cfg, posting everything as backfill when env.Replay is set (and, in
// any case, every batch whose context consume.IsReplay marks). bridgectl
// registers it as the "enos" sink's Factory, with cfg read from the ENOS_*
// variables the way the forwarder reads them.
func ReplaySink(cfg Config) replay.SinkFactory {
	return func(_ context.Context, env replay.SinkEnv) (consume.Handler, error) {
		return New(cfg, Options{Replay: env.Replay, Codec: env.Codec}, env.Log, env.Metrics)
	}
}
