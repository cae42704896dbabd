package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/decode"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// run consumes snoti.events.v1 in group GROUP_ID and writes telemetry. The
// codec directory is watched and reloaded without a restart. Shutdown
// order: stop consuming (committing what is done), stop watching codecs,
// stop the HTTP server.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	// With SCHEMA_REGISTRY_URL set, the schemas of what the service writes are
	// registered first (schemaregistry.Setup: an incompatible one stops the start).
	codec, err := schemaregistry.NewCodec(ctx, cfg.SchemaRegistry, []schemaregistry.Write{{Topic: cfg.TopicTelemetry, Record: "DeviceTelemetry"}, {Topic: cfg.TopicDLQ, Record: "DeadLetter"}}, log)
	if err != nil {
		return err
	}
	metrics := httpserver.NewRegistry()
	reg, err := codecs.Open(cfg.CodecsDir, log, codecs.WithMetrics(metrics))
	if err != nil {
		return err
	}
	log.Info().Strs("products", reg.Products()).Str("dir", cfg.CodecsDir).Msg("codecs loaded")
	w, err := cfg.Kafka.NewWriter(cfg.TopicTelemetry)
	if err != nil {
		return err
	}
	defer w.Close()

	h := decode.NewHandler(reg, codec, w, metrics)
	runner, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "decoder", DLQTopic: cfg.TopicDLQ},
		GroupID:         cfg.GroupID,
		Topics:          []string{cfg.TopicEvents},
		BatchSize:       cfg.BatchSize,
		BatchLinger:     consume.ConfiguredLinger(cfg.BatchLinger),
	}, cfg.Kafka, h, codec, log, metrics)
	if err != nil {
		return err
	}
	http := httpserver.New(cfg.HTTP, log, metrics)
	http.AddReadiness("kafka", runner.Ready)
	return service.Run(ctx, log, cfg.ShutdownTimeout,
		service.Part{Name: "consumer", Run: runner.Run},
		service.Part{Name: "codecs", Run: reg.Run},
		service.Part{Name: "http", Run: http.Run},
	)
}
