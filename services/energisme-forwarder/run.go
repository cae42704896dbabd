package main

import (
	"cmp"
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// run builds the forwarder and runs it until ctx is cancelled.
func run(ctx context.Context, cfg Config, log zerolog.Logger) error {
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

// app is the forwarder's parts, built but not running; tests reach its
// metrics.
type app struct {
	cfg     Config
	log     zerolog.Logger
	metrics *prometheus.Registry
	parts   []service.Part
}

func newApp(ctx context.Context, cfg Config, log zerolog.Logger) (*app, error) {
	// With SCHEMA_REGISTRY_URL set, the schemas of what the service writes are
	// registered first (schemaregistry.Setup: an incompatible one stops the start).
	codec, err := schemaregistry.NewCodec(ctx, cfg.SchemaRegistry, []schemaregistry.Write{{Topic: cfg.TopicDLQ, Record: "DeadLetter"}}, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, metrics: httpserver.NewRegistry()}
	http := httpserver.New(cfg.HTTP, log, a.metrics)

	if cfg.Push.Enabled() {
		h, err := cfg.Push.NewPushHandler(codec, log, a.metrics)
		if err != nil {
			return nil, err
		}
		// Pipelined: the handler pushes as the runner fetches, each event
		// reported done on its own, and the runner commits the contiguous
		// done prefix; ENERGISME_BATCH_SIZE bounds what is held meanwhile.
		runner, err := consume.NewAsync(consume.AsyncConfig{
			ProcessorConfig: consume.ProcessorConfig{Stage: "energisme", DLQTopic: cfg.TopicDLQ},
			GroupID:         cfg.GroupID,
			Topics:          []string{cfg.TopicEvents},
			MaxPending:      cfg.BatchSize,
			// Pushes under way at shutdown may finish within most of the
			// budget; nothing new starts.
			DrainTimeout: drainBudget(cfg.ShutdownTimeout),
		}, cfg.Kafka, h, codec, log.With().Str("part", "push").Logger(), a.metrics)
		if err != nil {
			return nil, err
		}
		// The handler's check, not the runner's: it tells an idle topic
		// (ready) from Energisme failing every push for a minute.
		http.AddReadiness("push", h.Ready)
		// And the runner's: it says when Kafka is unreachable.
		http.AddReadiness("push-kafka", runner.Ready)
		a.parts = append(a.parts, service.Part{Name: "push", Run: runner.Run},
			service.Part{Name: "mapping", Run: h.WatchMapping}) // reloaded without a restart
		log.Info().Str("group", cfg.GroupID).Str("topic", cfg.TopicEvents).Int("concurrency", cfg.Push.Concurrency).
			Str("dlq", cfg.TopicDLQ).Str("dlq_variable", cmp.Or(cfg.DLQFrom, "default")).
			Str("unmapped", cfg.Push.Unmapped).Msg("HTTP push enabled")
	}

	if cfg.Files.Enabled() {
		fe, up, err := cfg.Files.NewFileExporter(codec, log, a.metrics)
		if err != nil {
			return nil, err
		}
		runner, err := consume.NewAsync(consume.AsyncConfig{
			ProcessorConfig: consume.ProcessorConfig{Stage: "energisme-files", DLQTopic: cfg.TopicDLQ},
			GroupID:         cfg.FilesGroupID,
			Topics:          []string{cfg.TopicTelemetry},
			// The exporter holds at most one open file of MaxMessages per
			// partition; fetching must pause only while an upload cannot
			// finish, never because open files filled the tracker (they
			// complete only when later records arrive). Room for 64
			// partitions; tracker slots cost no memory.
			MaxPending: 64 * cfg.Files.MaxMessages,
			// A file being uploaded at shutdown may finish within most of
			// the budget; incomplete files stay uncommitted.
			DrainTimeout: drainBudget(cfg.ShutdownTimeout),
		}, cfg.Kafka, fe, codec, log.With().Str("part", "files").Logger(), a.metrics)
		if err != nil {
			return nil, err
		}
		http.AddReadiness("files", runner.Ready)
		a.parts = append(a.parts, service.Part{Name: "files", Run: func(ctx context.Context) error {
			defer func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = up.Close(cctx)
			}()
			return runner.Run(ctx)
		}})
		log.Info().Str("group", cfg.FilesGroupID).Str("topic", cfg.TopicTelemetry).Str("sftp", cfg.Files.SFTPAddr).
			Dur("interval", cfg.Files.Interval).Str("format", cfg.Files.Format).Msg("flat files enabled")
	}
	a.parts = append(a.parts, service.Part{Name: "http", Run: http.Run})
	return a, nil
}

// run runs the parts. Shutdown order: the push consumer (its batch
// finishes or is left uncommitted), the file consumer (a file being uploaded
// may finish within the drain budget and is committed; incomplete files stay
// uncommitted), the HTTP server.
func (a *app) run(ctx context.Context) error {
	return service.Run(ctx, a.log, a.cfg.ShutdownTimeout, a.parts...)
}

// drainBudget leaves a third of the shutdown budget for stopping the push
// part, committing and closing.
func drainBudget(shutdown time.Duration) time.Duration {
	return max(shutdown*2/3, time.Second)
}
