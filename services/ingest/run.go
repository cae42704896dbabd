package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/ingest"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/topics"
)

// run wires SNOTI_CONNECTIONS clients, the pipeline (pkg/ingest) and the
// HTTP server, and runs them until ctx is cancelled. Shutdown order (see
// ingest.Pipeline.Run): stop taking pushes, write and ACK what is in
// flight, let the ACKs reach SNoti, close the connections, then stop the
// HTTP server.
func run(ctx context.Context, cfg Config, log zerolog.Logger, opts ...option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// With SCHEMA_REGISTRY_URL set, the schemas of what the service writes are
	// registered first (schemaregistry.Setup: an incompatible one stops the start).
	codec, err := schemaregistry.NewCodec(ctx, cfg.SchemaRegistry, []schemaregistry.Write{{Topic: cfg.TopicEvents, Record: "SnotiEvent"}, {Topic: cfg.TopicInvalid, Record: "DeadLetter"}}, log)
	if err != nil {
		return err
	}
	reg := httpserver.NewRegistry()
	sm, err := snoti.NewMetrics(reg)
	if err != nil {
		return err
	}
	writer, err := cfg.Kafka.NewWriter("")
	if err != nil {
		return err
	}
	defer writer.Close()
	// The pipeline batches by itself (pushes queue while a write is in
	// flight): NewWriter's writer sends each write at once. BatchSize is
	// kept small (see writerBatchSize).
	writer.BatchSize = writerBatchSize
	if o.wrapTransport != nil {
		writer.Transport = o.wrapTransport(writer.Transport)
	}
	// Kafka first, then SNoti: the clients log in (and pushes arrive) only
	// once the writer is ready or kafkaStartTimeout has passed.
	kctx, cancel := context.WithTimeout(ctx, kafkaStartTimeout)
	defer cancel()
	// The check goes through the writer's transport: the connection and
	// metadata it sets up are the writer's, which warmWriter completes.
	maxMessageBytes, reachable, err := checkTopics(kctx, &kafka.Client{Addr: writer.Addr, Transport: writer.Transport, Timeout: 30 * time.Second}, cfg, log)
	if err != nil {
		return err
	}
	// A record over BatchBytes fails kafka-go's whole write: allow what the
	// topics allow. Records the broker refuses anyway are quarantined.
	writer.BatchBytes = max(writer.BatchBytes, int64(maxMessageBytes))
	if reachable { // else checkTopics has said so, once
		warmWriter(kctx, writer, cfg, log)
	}
	cancel()

	var w ingest.Writer = writer
	if o.wrapWriter != nil {
		w = o.wrapWriter(w)
	}
	m, err := ingest.NewMetrics(reg)
	if err != nil {
		return err
	}
	// The pipeline's drain gets most of the shutdown budget; the rest is
	// for the ACKs to reach SNoti and the connections to close.
	p, err := ingest.New(ingest.Config{
		TopicEvents: cfg.TopicEvents, TopicInvalid: cfg.TopicInvalid, Protocol: cfg.Protocol,
		BatchSize: cfg.BatchSize, MaxUnacked: cfg.Prefetch * cfg.Connections, RetryBackoffMax: cfg.RetryBackoffMax,
		MaxRecordBytes: int(writer.BatchBytes), DrainTimeout: cfg.ShutdownTimeout * 3 / 4,
	}, w, codec, log, m)
	if err != nil {
		return err
	}
	if o.metrics != nil {
		o.metrics(m)
	}
	clients := make([]*snoti.Client, cfg.Connections)
	for i := range clients {
		// The pushes are decoded by the pipeline's encoders (ingest.ToEvent):
		// off the reading goroutine, and the pushes waiting in the queue
		// (up to the prefetch) hold only their lines and ids.
		c, err := snoti.New(cfg.Config, log.With().Int("connection", i).Logger(), snoti.WithMetrics(sm), snoti.WithDeferredDecode())
		if err != nil {
			return err
		}
		clients[i] = c
	}

	var commands *commandSender
	if cfg.Commands.Enabled {
		if commands, err = newCommandSender(cfg, clients, codec, log, reg); err != nil {
			return err
		}
	}

	http := httpserver.New(cfg.HTTP, log, reg)
	http.AddReadiness("snoti", func(context.Context) error {
		for _, c := range clients {
			if c.Ready() {
				return nil
			}
		}
		return errors.New("not logged in to SNoti")
	})
	http.AddReadiness("kafka", p.Ready)

	sources := make([]ingest.Source, len(clients))
	for i, c := range clients {
		sources[i] = c
	}
	parts := []service.Part{
		{Name: "ingest", Run: func(ctx context.Context) error { return p.Run(ctx, sources...) }},
		{Name: "http", Run: http.Run},
	}
	if commands != nil {
		http.AddReadiness("commands", commands.runner.Ready)
		parts = append(parts, service.Part{Name: "commands", Run: commands.Run})
	}
	return service.Run(ctx, log, cfg.ShutdownTimeout, parts...)
}

// writerBatchSize is the ingest writer's BatchSize: the most records of one
// produce request to a partition. kafka-go allocates a buffer of BatchSize
// messages (152 B each) per partition per WriteMessages call, whatever the
// write's size: sized for a whole INGEST_BATCH_SIZE, clearing those buffers
// was a fifth of the ingest's CPU at 5k events/s. A write's larger share
// of a partition goes as several requests, one after the other: kafka-go
// sends a partition's batches one at a time, so at full speed each is a
// round trip the write waits for. 256 is the measured middle (BenchmarkIngest,
// 3-partition topic): against 64, 109-116k events/s instead of 100-103k,
// for 65-70 µs of CPU per event at 5k/s instead of 58-62; 128 gave 100-103k,
// and 1000 113k for 80 µs.
const writerBatchSize = 256

// options let in-process tests observe the pipeline.
type options struct {
	wrapWriter    func(ingest.Writer) ingest.Writer
	wrapTransport func(kafka.RoundTripper) kafka.RoundTripper // the writer's
	metrics       func(*ingest.Metrics)
}

// kafkaStartTimeout bounds how long the start waits for Kafka (the topics'
// check, the writer's warm-up) before logging in to SNoti anyway.
const kafkaStartTimeout = 15 * time.Second

// warmWriter makes the writer ready before any push arrives: the metadata
// of both topics fetched and a connection open to each partition's leader
// (kafkaconf.WarmWriter), so the first pushes do not wait for them (they
// made the push→ACK p99 of the first second several times the steady
// state's); partitions whose leaders are still being elected (topics just
// created) are waited for. When Kafka is not ready within ctx it logs and
// goes on: the ingest logs in anyway, its writes retry, and nothing is
// ACKed until they succeed (the readiness check says so meanwhile).
func warmWriter(ctx context.Context, writer *kafka.Writer, cfg Config, log zerolog.Logger) {
	start := time.Now()
	if err := kafkaconf.WarmWriter(ctx, writer, cfg.TopicEvents, cfg.TopicInvalid); err != nil {
		log.Warn().Err(err).Strs("brokers", cfg.Kafka.Addrs()).Dur("waited", time.Since(start)).
			Msg("Kafka writer not ready at start (topics' metadata, partition leaders); logging in to SNoti anyway: writes will retry and nothing is ACKed until they succeed")
		return
	}
	log.Info().Dur("took", time.Since(start)).Msg("Kafka writer ready (metadata, leader connections); logging in to SNoti")
}

type option func(*options)

// checkTopics fails the start when a topic does not exist: producers never
// auto-create, and writing to a missing topic would only retry forever.
// When Kafka cannot be reached before ctx ends (run bounds it with
// kafkaStartTimeout), it logs and lets the writes retry. It
// returns the largest max.message.bytes of the two topics (0 when it cannot
// be read, e.g. without DescribeConfigs permission), whether Kafka answered,
// and warns when the
// events topic cannot hold a record of a line at SNOTI_MAX_LINE_BYTES: such
// records are quarantined in the invalid topic rather than kept as events.
func checkTopics(ctx context.Context, client *kafka.Client, cfg Config, log zerolog.Logger) (maxMessageBytes int, reachable bool, err error) {
	names := []string{cfg.TopicEvents, cfg.TopicInvalid}
	var missing *topics.TopicError
	switch err := topics.Exist(ctx, client, names...); {
	case errors.As(err, &missing):
		return 0, true, fmt.Errorf("%w: create it with `bridgectl topics ensure` (the ingest never auto-creates topics)", err)
	case err != nil:
		log.Warn().Err(err).Strs("brokers", cfg.Kafka.Addrs()).Msg("Kafka not reachable at start; writes will retry and nothing is ACKed until they succeed")
		return 0, false, nil
	}
	limits, err := topics.MaxMessageBytes(ctx, client, names...)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read the topics' max.message.bytes; records too large for them will be quarantined when the broker refuses them")
		return 0, true, nil
	}
	if ev := limits[cfg.TopicEvents]; ev < recordBytesForLine(cfg.MaxLineBytes) {
		log.Warn().Int("max_message_bytes", ev).Int("SNOTI_MAX_LINE_BYTES", cfg.MaxLineBytes).Str("topic", cfg.TopicEvents).
			Msg("the events topic's max.message.bytes is below twice SNOTI_MAX_LINE_BYTES (a record holds the line and its decoded copy): pushes near the line limit will be quarantined in the invalid topic; raise max.message.bytes (bridgectl topics ensure sets TOPIC_MAX_MESSAGE_BYTES on the topics it creates) or lower SNOTI_MAX_LINE_BYTES")
	}
	return max(limits[cfg.TopicEvents], limits[cfg.TopicInvalid]), true, nil
}

// recordBytesForLine is the record size a push line of n bytes may need:
// the line itself (raw_json) and its decoded copy (kv values or raw
// bytes), before compression.
func recordBytesForLine(n int) int { return 2 * n }
