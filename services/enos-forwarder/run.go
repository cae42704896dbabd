package main

import (
	"cmp"
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// run consumes TOPIC_TELEMETRY and TOPIC_EVENTS in group GROUP_ID and posts
// to EnOS; records EnOS cannot take go to TOPIC_DLQ. A sink outage holds
// the batch (lag grows) and is never a dead letter. The mapping file is
// watched and reloaded without a restart. Shutdown order: stop consuming
// (committing what is done), stop watching the mapping, then the HTTP
// server.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	// With SCHEMA_REGISTRY_URL set, the schemas of what the service writes are
	// registered first (schemaregistry.Setup: an incompatible one stops the start).
	codec, err := schemaregistry.NewCodec(ctx, cfg.SchemaRegistry, []schemaregistry.Write{{Topic: cfg.TopicDLQ, Record: "DeadLetter"}}, log)
	if err != nil {
		return err
	}
	metrics := httpserver.NewRegistry()
	h, err := enosfwd.New(cfg.EnOS, enosfwd.Options{Codec: codec, Concurrency: cfg.Concurrency}, log, metrics)
	if err != nil {
		return err
	}
	log.Info().Strs("products", h.Mapping().Products()).Str("mapping", cfg.EnOS.MappingFile).
		Str("api", cfg.EnOS.APIURL).Dur("backfill_age", cfg.EnOS.BackfillAge).Int("concurrency", cfg.Concurrency).
		Str("dlq", cfg.TopicDLQ).Str("dlq_variable", cmp.Or(cfg.DLQFrom, "default")).Msg("EnOS mapping loaded; reloaded when the file changes")
	runner, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "enos", DLQTopic: cfg.TopicDLQ},
		GroupID:         cfg.GroupID,
		Topics:          []string{cfg.TopicTelemetry, cfg.TopicEvents},
		BatchSize:       cfg.BatchSize,
		BatchLinger:     consume.ConfiguredLinger(cfg.BatchLinger),
	}, cfg.Kafka, h, codec, log, metrics)
	if err != nil {
		return err
	}
	http := httpserver.New(cfg.HTTP, log, metrics)
	http.AddReadiness("kafka", runner.Ready)
	http.AddReadiness("enos", h.Ready)
	return service.Run(ctx, log, cfg.ShutdownTimeout,
		service.Part{Name: "consumer", Run: runner.Run},
		service.Part{Name: "mapping", Run: h.WatchMapping},
		service.Part{Name: "http", Run: http.Run},
	)
}
