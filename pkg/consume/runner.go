package consume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// Config configures a Runner.
type Config struct {
	ProcessorConfig
	GroupID   string
	Topics    []string
	BatchSize int           // most messages per batch (default 500)
	BatchWait time.Duration // how long to fill a batch once it has a message (default 20ms)
	// LagInterval is how often the lag of the partitions this member owns
	// is read from Kafka (committed offsets against log ends) and exported
	// as snotibridge_consumer_lag (default 5s). Each poll also tells
	// readiness whether Kafka is reachable.
	LagInterval time.Duration
	// CommitTimeout bounds one offset commit (default 10s). A commit cut
	// short is not fatal: the messages are delivered again and dropped as
	// duplicates.
	CommitTimeout time.Duration
}

func (c *Config) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.BatchWait <= 0 {
		c.BatchWait = 20 * time.Millisecond
	}
	if c.LagInterval <= 0 {
		c.LagInterval = 5 * time.Second
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 10 * time.Second
	}
}

// Runner consumes a group and commits only what is done.
type Runner struct {
	cfg      Config
	kafka    kafkaconf.Config
	proc     *Processor
	dlq      *kafka.Writer
	log      zerolog.Logger
	m        *metrics
	progress atomic.Int64 // unix nanos of the last successful fetch or commit
	idle     atomic.Bool  // waiting for a first message: nothing to do is not a lack of progress
	mon      atomic.Pointer[lagMonitor]
}

// New builds a runner; h processes the batches. It writes dead letters to
// cfg.DLQTopic with acks=all.
func New(cfg Config, kcfg kafkaconf.Config, h Handler, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*Runner, error) {
	if cfg.GroupID == "" || len(cfg.Topics) == 0 {
		return nil, errors.New("consume: GroupID and Topics are required")
	}
	cfg.defaults()
	dlq, err := kcfg.NewWriter(cfg.DLQTopic)
	if err != nil {
		return nil, err
	}
	log = log.With().Str("component", "consumer").Str("group", cfg.GroupID).Logger()
	proc, err := NewProcessor(cfg.ProcessorConfig, h, dlq, codec, log, reg)
	if err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg, kafka: kcfg, proc: proc, dlq: dlq, log: log, m: proc.m}, nil
}

// Ready reports whether the runner is connected and making progress: Kafka
// answered the last lag poll (or fetch), and the runner fetched or
// committed in the last minute or is waiting for new messages (a quiet
// topic is not a stall). A batch held for more than a minute by a failing
// sink is not ready either.
func (r *Runner) Ready(context.Context) error {
	last := r.progress.Load()
	mon := r.mon.Load()
	if last == 0 || mon == nil {
		return errors.New("not consuming yet")
	}
	if err := mon.connected(); err != nil {
		return err
	}
	if r.idle.Load() {
		return nil
	}
	if age := time.Since(time.Unix(0, last)); age > time.Minute {
		return fmt.Errorf("no progress for %s", age.Round(time.Second))
	}
	return nil
}

// Run consumes until ctx is cancelled, then commits what is done and
// returns nil. Kafka being unreachable never ends it: the reader rejoins
// the group with backoff for as long as it takes (readiness says so
// meanwhile), and lag drains when the broker is back. Messages fetched but
// not finished are left uncommitted and will be delivered again (to this
// group's next owner of the partition). Run returns an error only for a
// handler or dead-letter failure that retrying cannot fix.
func (r *Runner) Run(ctx context.Context) error {
	reader, mon, err := newGroupReader(r.kafka, r.cfg.GroupID, r.cfg.Topics, r.cfg.BatchSize, r.log, r.cfg.Stage, r.m, r.cfg.LagInterval)
	if err != nil {
		return err
	}
	defer r.dlq.Close()
	defer closeReader(reader, r.log)
	r.mon.Store(mon)
	defer mon.start(ctx)()
	r.log.Info().Strs("topics", r.cfg.Topics).Msg("consuming")

	// Treat an idle group as progress: FetchMessage blocks with nothing to read.
	r.progress.Store(time.Now().UnixNano())
	// A fetch error (Kafka unreachable) is retried with backoff, after the
	// batch fetched before it is finished; a batch finished resets it.
	retry := reconnectRetry(mon, r.log)
	for {
		_, err := backoff.Retry(ctx, func() (struct{}, error) {
			return struct{}{}, r.step(ctx, reader, mon)
		}, retry...)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// step fetches a batch, finishes it and commits what is done. It returns
// the fetch error to retry after, or a backoff.Permanent error for what
// ends the runner: a closed reader, a fatal processing error.
func (r *Runner) step(ctx context.Context, reader *kafka.Reader, mon *lagMonitor) error {
	batch, err := r.fetchBatch(ctx, reader, mon)
	if len(batch) > 0 {
		outcomes, perr := r.proc.Process(ctx, batch)
		r.commit(ctx, reader, batch, Done(outcomes))
		if perr != nil && ctx.Err() == nil {
			return backoff.Permanent(perr)
		}
	}
	if ctx.Err() != nil || err == nil {
		return nil
	}
	if errors.Is(err, errReaderClosed) {
		return backoff.Permanent(err)
	}
	return err
}

// fetchBatch collects a batch from reader (CollectBatch) and keeps
// readiness informed: waiting for a first message is idle, not stalled.
func (r *Runner) fetchBatch(ctx context.Context, reader *kafka.Reader, mon *lagMonitor) ([]kafka.Message, error) {
	first := true
	batch, err := CollectBatch(ctx, func(ctx context.Context) (kafka.Message, error) {
		r.idle.Store(first)
		m, err := reader.FetchMessage(ctx)
		r.idle.Store(false)
		if err != nil {
			return m, err
		}
		first = false
		r.progress.Store(time.Now().UnixNano())
		mon.reached()
		return m, nil
	}, r.cfg.BatchSize, r.cfg.BatchWait)
	switch {
	case err == nil:
		return batch, nil
	case errors.Is(err, io.EOF):
		return batch, errReaderClosed
	default:
		return batch, fmt.Errorf("fetching from %v: %w", r.cfg.Topics, err)
	}
}

// commit commits, per partition, the last message before which every
// message of the batch is done. It has a deadline of its own so that a
// shutdown still records the work finished before it; once ctx is
// cancelled and Kafka is known to be unreachable, it does not wait the
// whole CommitTimeout for a broker that is gone.
func (r *Runner) commit(ctx context.Context, reader *kafka.Reader, batch []kafka.Message, done []bool) {
	toCommit := ContiguousDone(batch, done)
	if len(toCommit) == 0 {
		return
	}
	timeout := r.cfg.CommitTimeout
	if ctx.Err() != nil && r.mon.Load().connected() != nil {
		timeout = min(timeout, shutdownCommitTimeout)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := reader.CommitMessages(cctx, toCommit...); err != nil {
		// Not fatal: the messages are delivered again and deduplicated.
		r.m.commits.WithLabelValues(r.cfg.Stage, "error").Inc()
		r.log.Error().Err(err).Msg("committing offsets failed; the batch will be redelivered")
		return
	}
	r.m.commits.WithLabelValues(r.cfg.Stage, "ok").Inc()
	r.progress.Store(time.Now().UnixNano())
	for _, m := range toCommit {
		r.log.Trace().Str("topic", m.Topic).Int("partition", m.Partition).Str("offset", strconv.FormatInt(m.Offset, 10)).Msg("committed")
	}
}
