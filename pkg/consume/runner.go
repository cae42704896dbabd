package consume

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	GroupID string
	Topics  []string
	// BatchSize, BatchWait and BatchLinger cut the stream into batches (see
	// Batching): a batch ends when it holds BatchSize messages (default
	// 500), when no message arrived for BatchLinger (default 1ms; negative:
	// none) or BatchWait after its first message (default 20ms).
	BatchSize   int
	BatchWait   time.Duration
	BatchLinger time.Duration
	// LagInterval is how often the lag of the partitions this member owns
	// is read from Kafka (committed offsets against log ends) and exported
	// as snotibridge_consumer_lag (default 5s). Each poll also tells
	// readiness whether Kafka is reachable.
	LagInterval time.Duration
	// CommitTimeout bounds one offset commit (default 10s). A commit cut
	// short is not fatal: it is tried again, and if the runner stops first
	// the messages are delivered again and dropped as duplicates.
	CommitTimeout time.Duration
	// CommitInterval is the shortest time between two commits (default
	// 50ms: no more commits than one per batch made before, and lag,
	// readiness and a rebalance's redeliveries follow the work closely).
	// Commits run in the background: the next batch is fetched without
	// waiting for the last one's.
	CommitInterval time.Duration
}

func (c *Config) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.BatchWait <= 0 {
		c.BatchWait = 20 * time.Millisecond
	}
	if c.BatchLinger == 0 {
		c.BatchLinger = DefaultBatchLinger
	}
	if c.LagInterval <= 0 {
		c.LagInterval = 5 * time.Second
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 10 * time.Second
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 50 * time.Millisecond
	}
}

// batching is the runner's Batching.
func (c *Config) batching() Batching {
	return Batching{Size: c.BatchSize, Wait: c.BatchWait, Linger: c.BatchLinger}
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
// returns nil. Offsets are committed in the background (the committer,
// shared with AsyncRunner), at most once per CommitInterval; whenever Run
// returns, its last commit records everything done before. Kafka being
// unreachable never ends it: the reader rejoins the group with backoff for
// as long as it takes (readiness says so meanwhile), and lag drains when
// the broker is back. Messages fetched but
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
	commits := runnerCommitter(reader, mon, &r.progress, r.cfg.CommitInterval, r.cfg.CommitTimeout, r.cfg.Stage, r.m, r.log)
	// Deferred after the reader's close and the lag poll's stop, so it runs
	// before them: the final commit needs both.
	defer commits.start()()
	r.log.Info().Strs("topics", r.cfg.Topics).Msg("consuming")

	// Treat an idle group as progress: FetchMessage blocks with nothing to read.
	r.progress.Store(time.Now().UnixNano())
	// A fetch error (Kafka unreachable) is retried with backoff, after the
	// batch fetched before it is finished; a batch finished resets it.
	retry := reconnectRetry(mon, r.log)
	for {
		_, err := backoff.Retry(ctx, func() (struct{}, error) {
			return struct{}{}, r.step(ctx, reader, mon, commits)
		}, retry...)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// step fetches a batch, finishes it and hands what is done to the
// committer: per partition, the last message before which every message
// of the batch is done (ContiguousDone). It returns the fetch error to
// retry after, or a backoff.Permanent error for what ends the runner: a
// closed reader, a fatal processing error. A batch with a message not done
// is the runner's last (its context ended or the error is fatal), so
// nothing after that message is ever committed.
func (r *Runner) step(ctx context.Context, reader *kafka.Reader, mon *lagMonitor, commits *committer) error {
	batch, err := r.fetchBatch(ctx, reader, mon)
	if len(batch) > 0 {
		outcomes, perr := r.proc.Process(ctx, batch)
		commits.add(ContiguousDone(batch, Done(outcomes))...)
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

// fetchBatch collects a batch from reader (Batching.Collect) and keeps
// readiness informed: waiting for a first message is idle, not stalled.
func (r *Runner) fetchBatch(ctx context.Context, reader *kafka.Reader, mon *lagMonitor) ([]kafka.Message, error) {
	first := true
	batch, err := r.cfg.batching().Collect(ctx, func(ctx context.Context) (kafka.Message, error) {
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
	})
	switch {
	case err == nil:
		return batch, nil
	case errors.Is(err, io.EOF):
		return batch, errReaderClosed
	default:
		return batch, fmt.Errorf("fetching from %v: %w", r.cfg.Topics, err)
	}
}
