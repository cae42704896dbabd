package consume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

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
	lastErr  atomic.Int64 // unix nanos of the reader's last reported error
}

// New builds a runner; h processes the batches. It writes dead letters to
// cfg.DLQTopic with acks=all.
func New(cfg Config, kcfg kafkaconf.Config, h Handler, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*Runner, error) {
	if cfg.GroupID == "" || len(cfg.Topics) == 0 {
		return nil, errors.New("consume: GroupID and Topics are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 20 * time.Millisecond
	}
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

// Ready reports whether the runner is making progress: it fetched or
// committed in the last minute, or it is waiting for new messages without
// the reader reporting errors (a quiet topic is not a stall). A batch held
// for more than a minute by a failing sink, or a reader failing to reach
// Kafka, is not ready.
func (r *Runner) Ready(context.Context) error {
	last := r.progress.Load()
	if last == 0 {
		return errors.New("no fetch from Kafka yet")
	}
	recentErr := time.Since(time.Unix(0, r.lastErr.Load())) < time.Minute
	if r.idle.Load() && !recentErr {
		return nil
	}
	if age := time.Since(time.Unix(0, last)); age > time.Minute {
		if recentErr {
			return fmt.Errorf("no progress for %s; the Kafka reader reports errors", age.Round(time.Second))
		}
		return fmt.Errorf("no progress for %s", age.Round(time.Second))
	}
	return nil
}

// Run consumes until ctx is cancelled, then commits what is done and
// returns nil. Messages fetched but not finished are left uncommitted and
// will be delivered again (to this group's next owner of the partition).
func (r *Runner) Run(ctx context.Context) error {
	reader, err := newGroupReader(r.kafka, r.cfg.GroupID, r.cfg.Topics, r.cfg.BatchSize, r.log, func() {
		r.lastErr.Store(time.Now().UnixNano())
	})
	if err != nil {
		return err
	}
	defer reader.Close()
	defer r.dlq.Close()
	r.log.Info().Strs("topics", r.cfg.Topics).Msg("consuming")

	// Treat an idle group as progress: FetchMessage blocks with nothing to read.
	r.progress.Store(time.Now().UnixNano())
	for {
		batch, err := r.fetchBatch(ctx, reader)
		if len(batch) > 0 {
			done, perr := r.proc.Process(ctx, batch)
			r.commit(reader, batch, done)
			if perr != nil && ctx.Err() == nil {
				return perr
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fetchBatch blocks for the first message, then takes whatever arrives
// until BatchWait after that first message, up to BatchSize. The deadline
// counts from the first message, not from each one: a steady stream would
// otherwise keep extending the wait until the batch is full, adding
// BatchSize/rate of latency at every stage.
func (r *Runner) fetchBatch(ctx context.Context, reader *kafka.Reader) ([]kafka.Message, error) {
	var batch []kafka.Message
	var deadline time.Time
	for len(batch) < r.cfg.BatchSize {
		fctx := ctx
		var cancel context.CancelFunc = func() {}
		if len(batch) > 0 {
			fctx, cancel = context.WithDeadline(ctx, deadline)
		}
		r.idle.Store(len(batch) == 0)
		m, err := reader.FetchMessage(fctx)
		r.idle.Store(false)
		cancel()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				return batch, nil
			}
			if errors.Is(err, io.EOF) {
				return batch, fmt.Errorf("fetching: reader closed")
			}
			return batch, fmt.Errorf("fetching from %v: %w", r.cfg.Topics, err)
		}
		r.progress.Store(time.Now().UnixNano())
		if len(batch) == 0 {
			deadline = time.Now().Add(r.cfg.BatchWait)
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// commit commits, per partition, the last message before which every
// message of the batch is done. It uses its own deadline so that a shutdown
// still records the work finished before it.
func (r *Runner) commit(reader *kafka.Reader, batch []kafka.Message, done []bool) {
	toCommit := ContiguousDone(batch, done)
	if len(toCommit) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reader.CommitMessages(ctx, toCommit...); err != nil {
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

// ContiguousDone returns, for each topic-partition in batch (messages of a
// partition in offset order), the last message such that it and every
// earlier message of that partition are done.
func ContiguousDone(batch []kafka.Message, done []bool) []kafka.Message {
	type tp struct {
		topic string
		part  int
	}
	last := map[tp]int{}
	blocked := map[tp]bool{}
	var order []tp
	for i, m := range batch {
		k := tp{m.Topic, m.Partition}
		if _, seen := last[k]; !seen && !blocked[k] {
			order = append(order, k)
		}
		if blocked[k] {
			continue
		}
		if !done[i] {
			blocked[k] = true
			continue
		}
		last[k] = i
	}
	var out []kafka.Message
	for _, k := range order {
		if i, ok := last[k]; ok {
			out = append(out, batch[i])
		}
	}
	return out
}
