package main

import (
	"context"
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/config/sinkenv"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/decode"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// sinkDLQVar names, per sink, bridgectl's variable for the dead-letter
// topic of its stage; TOPIC_DLQ, the stage's own name, wins when set (see
// Topics.SinkDLQ).
var sinkDLQVar = map[string]string{"telemetry": "TOPIC_DECODER_DLQ", "enos": "TOPIC_ENOS_DLQ", "energisme": "TOPIC_ENERGISME_DLQ", "energisme-files": "TOPIC_ENERGISME_DLQ"}

// defaultSinks is the table of replay and redrive targets.
//
// A sink's Factory is a replay.SinkFactory,
// func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error),
// that builds the same handler as the live stage from the stage's own
// environment variables, flagging records as historical when env.Replay is
// true (EnOS: non-realtime). The forwarders' factories read their
// variables here, with pkg/config, as the forwarders do: the libraries
// take typed configs. A sink registered without a Factory answers
// "not available in this build".
func defaultSinks(cfg *Config) replay.Sinks {
	return replay.Sinks{
		{
			Name: "telemetry", Stage: "decoder",
			Inputs: []string{cfg.Topics.Events}, DLQTopic: cfg.Topics.DecoderDLQ,
			Factory: telemetrySink(cfg),
		},
		{
			Name: "enos", Stage: "enos",
			Inputs: []string{cfg.Topics.Telemetry, cfg.Topics.Events}, DLQTopic: cfg.Topics.EnosDLQ,
			Factory: configErrors(func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
				cfg, err := sinkenv.LoadEnOS()
				if err != nil {
					return nil, err
				}
				return enosfwd.ReplaySink(cfg)(ctx, env)
			}),
		},
		{
			// Energisme's push API has no backfill flag: replayed uplinks go
			// out like live ones, with their original timestamps.
			Name: "energisme", Stage: "energisme",
			Inputs: []string{cfg.Topics.Events}, DLQTopic: cfg.Topics.EnergismeDLQ,
			Factory: configErrors(func(_ context.Context, env replay.SinkEnv) (consume.Handler, error) {
				s, err := sinkenv.LoadEnergismePush()
				if err != nil {
					return nil, err
				}
				return s.NewPushHandler(env.Codec, env.Log, env.Metrics)
			}),
		},
		{
			// Decoded telemetry as the forwarder's flat files over SFTP.
			Name: "energisme-files", Stage: "energisme-files",
			Inputs: []string{cfg.Topics.Telemetry}, DLQTopic: cfg.Topics.EnergismeDLQ,
			Factory: configErrors(func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
				s, err := sinkenv.LoadEnergismeFiles()
				if err != nil {
					return nil, err
				}
				return energismefwd.FilesReplaySink(s)(ctx, env)
			}),
		},
	}
}

// configErrors marks every error of f as a configuration error: the
// forwarders' factories only read variables and files, nothing is dialled.
func configErrors(f replay.SinkFactory) replay.SinkFactory {
	return func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
		h, err := f(ctx, env)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", replay.ErrSinkConfig, err)
		}
		return h, nil
	}
}

// telemetrySink re-runs the decoder: SnotiEvents from the events topic are
// decoded with the codecs of CODECS_DIR and written to the telemetry topic,
// by the decoder's own handler.
func telemetrySink(cfg *Config) replay.SinkFactory {
	return func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
		if cfg.CodecsDir == "" {
			return nil, fmt.Errorf("%w: CODECS_DIR is not set: point it (or --codecs-dir) at the decoder's codec folder", replay.ErrSinkConfig)
		}
		reg, err := codecs.Open(cfg.CodecsDir, env.Log, codecs.WithMetrics(env.Metrics))
		if err != nil {
			return nil, fmt.Errorf("%w: CODECS_DIR=%q: %w", replay.ErrSinkConfig, cfg.CodecsDir, err)
		}
		w, err := env.Kafka.NewWriter(cfg.Topics.Telemetry)
		if err != nil {
			return nil, err
		}
		return &telemetryHandler{Handler: decode.NewHandler(reg, env.Codec, w, env.Metrics), close: w.Close}, nil
	}
}

// telemetryHandler is the decoder's handler with its writer's Close.
type telemetryHandler struct {
	*decode.Handler
	close func() error
}

func (h *telemetryHandler) Close() error { return h.close() }
