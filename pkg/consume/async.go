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

// AsyncConfig configures an AsyncRunner.
type AsyncConfig struct {
	// ProcessorConfig gives the stage name, the dead-letter topic and the
	// backoff of dead-letter writes; its dedupe window is not used (see
	// AsyncRunner).
	ProcessorConfig
	GroupID string
	Topics  []string
	// MaxPending bounds the messages fetched and not yet committable
	// (default 10000); fetching pauses while it is reached.
	MaxPending int
	// CommitInterval is the shortest time between two commits (default
	// 200ms); commits happen only after something was reported done.
	CommitInterval time.Duration
	// DrainTimeout is how long the handler may keep working once Run's
	// context is cancelled — to finish a partial window, say (default 20s).
	DrainTimeout time.Duration
	// LagInterval and CommitTimeout are as in Config (defaults 5s, 10s).
	LagInterval   time.Duration
	CommitTimeout time.Duration
}

// Acks is how an AsyncHandler reports outcomes. Its methods are safe for
// concurrent use.
type Acks interface {
	// Done marks messages finished (their effect is durable at the sink):
	// their offsets may be committed once every earlier message of their
	// partition is done too. Order across calls does not matter.
	Done(msgs ...kafka.Message)
	// Reject writes m to the dead-letter topic with err's reason (see
	// Reject) and marks it done. It blocks until the dead letter is
	// durable or ctx ends; on a ctx error m stays not done.
	Reject(ctx context.Context, m kafka.Message, err error) error
}

// AsyncHandler is a handler that holds messages for a while — a file
// exporter gathering a window — while the runner keeps fetching.
type AsyncHandler interface {
	// Run receives messages from in, in each partition's offset order, and
	// reports every one of them through acks, later and in any order. in is
	// closed when the runner stops fetching (shutdown; Kafka being
	// unreachable only pauses it):
	// Run should then finish or give up on what it holds and return. ctx
	// ends AsyncConfig.DrainTimeout after the runner's own context, the
	// last moment to give up. Messages not reported done are not committed
	// and are delivered again after a restart. A non-nil return stops the
	// runner with that error; returning before in is closed is an error.
	Run(ctx context.Context, in <-chan kafka.Message, acks Acks) error
}

// AsyncHandlerFunc adapts a function to AsyncHandler.
type AsyncHandlerFunc func(ctx context.Context, in <-chan kafka.Message, acks Acks) error

// Run calls f.
func (f AsyncHandlerFunc) Run(ctx context.Context, in <-chan kafka.Message, acks Acks) error {
	return f(ctx, in, acks)
}

// AsyncRunner consumes a group for a handler that finishes messages
// asynchronously. A Tracker records fetched offsets; the runner commits a
// partition up to the last message before which everything is done, soon
// after the handler reports it, and pauses fetching when MaxPending messages
// are not yet committable. Retrying is the handler's business (it holds its
// messages until they are durable or it gives up, retrying with Retry and
// a Backoff like the other stages); dead letters go through
// Acks.Reject. Unlike Runner it does not drop duplicates by event_id: a
// message Kafka delivers again after a rebalance is recognised by its
// offset instead (see Tracker.Add).
type AsyncRunner struct {
	cfg     AsyncConfig
	kafka   kafkaconf.Config
	h       AsyncHandler
	dl      *DeadLetterer
	dlq     *kafka.Writer
	tracker *Tracker
	log     zerolog.Logger
	m       *metrics
	// commits commits what the tracker releases; set by Run before the
	// handler starts.
	commits  *committer
	mon      atomic.Pointer[lagMonitor]
	progress atomic.Int64 // unix nanos of the last fetch or commit
	// pausedSince is the unix nanos since when the fetch loop has been
	// waiting for room in the tracker or for the handler to take a
	// message; 0 while it waits on Kafka or works.
	pausedSince atomic.Int64
}

// NewAsync builds an asynchronous runner for h; it writes dead letters to
// cfg.DLQTopic with acks=all.
func NewAsync(cfg AsyncConfig, kcfg kafkaconf.Config, h AsyncHandler, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*AsyncRunner, error) {
	if cfg.GroupID == "" || len(cfg.Topics) == 0 {
		return nil, errors.New("consume: GroupID and Topics are required")
	}
	if h == nil {
		return nil, errors.New("consume: the async handler is nil")
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10_000
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = 200 * time.Millisecond
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 20 * time.Second
	}
	if cfg.LagInterval <= 0 {
		cfg.LagInterval = 5 * time.Second
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 10 * time.Second
	}
	cfg.DedupeWindow = -1
	if err := cfg.ProcessorConfig.defaults(); err != nil {
		return nil, err
	}
	dlq, err := kcfg.NewWriter(cfg.DLQTopic)
	if err != nil {
		return nil, err
	}
	log = log.With().Str("component", "consumer").Str("group", cfg.GroupID).Logger()
	return &AsyncRunner{
		cfg: cfg, kafka: kcfg, h: h, dl: cfg.deadLetterer(dlq, codec, log), dlq: dlq, tracker: NewTracker(cfg.MaxPending),
		log: log, m: newMetrics(reg),
	}, nil
}

// Ready reports whether the runner is connected and not held back: Kafka
// answered the last lag poll (or fetch), and fetching has not been paused
// for a minute because the handler finishes nothing (its sink is down).
// Waiting on Kafka for new records — an idle topic — counts as ready.
func (r *AsyncRunner) Ready(context.Context) error {
	mon := r.mon.Load()
	if r.progress.Load() == 0 || mon == nil {
		return errors.New("not consuming yet")
	}
	if err := mon.connected(); err != nil {
		return err
	}
	if since := r.pausedSince.Load(); since != 0 {
		if age := time.Since(time.Unix(0, since)); age > time.Minute {
			return fmt.Errorf("fetching paused for %s: %d messages pending that the handler has not finished", age.Round(time.Second), r.tracker.Pending())
		}
	}
	return nil
}

// Run consumes until ctx is cancelled or the handler fails. Kafka being
// unreachable never ends it: fetching resumes when the broker is back, and
// the handler keeps what it holds meanwhile. On cancel it stops fetching,
// closes the handler's input, gives the handler up to DrainTimeout to
// finish, commits what is done and returns nil. Messages not done are left
// uncommitted and delivered again to the partition's next owner. Run is
// called once.
func (r *AsyncRunner) Run(ctx context.Context) error {
	reader, mon, err := newGroupReader(r.kafka, r.cfg.GroupID, r.cfg.Topics, 1000, r.log, r.cfg.Stage, r.m, r.cfg.LagInterval)
	if err != nil {
		return err
	}
	defer r.dlq.Close()
	defer closeReader(reader, r.log)
	r.mon.Store(mon)
	defer mon.start(ctx)()
	r.log.Info().Strs("topics", r.cfg.Topics).Int("max_pending", r.cfg.MaxPending).Msg("consuming asynchronously")
	r.progress.Store(time.Now().UnixNano())
	r.commits = r.committer(reader, mon)

	// The handler outlives ctx by DrainTimeout, to flush what it holds.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(r.cfg.DrainTimeout, hcancel) })
	defer stopDrain()

	// Fetching stops on ctx, and also when the handler returns early.
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	in := make(chan kafka.Message)
	hdone := make(chan error, 1)
	go func() {
		defer fcancel()
		hdone <- r.h.Run(hctx, in, asyncAcks{r})
	}()

	stopCommits := r.commits.start()

	fetchErr := r.fetch(fctx, reader, in, mon)
	close(in)
	if fetchErr != nil {
		// The handler flushes what it holds as on a shutdown.
		time.AfterFunc(r.cfg.DrainTimeout, hcancel)
	}
	herr := <-hdone
	stopCommits() // the final commit: everything the handler finished

	switch {
	case fetchErr != nil:
		return fetchErr
	case herr != nil && !(ctx.Err() != nil && (errors.Is(herr, context.Canceled) || errors.Is(herr, context.DeadlineExceeded))):
		// A handler giving up at the end of the drain budget is a clean
		// stop; its unfinished messages stay uncommitted.
		return fmt.Errorf("async handler: %w", herr)
	case ctx.Err() == nil:
		return errors.New("async handler returned before its input was closed")
	}
	return nil
}

// fetch feeds the handler until ctx ends (nil). A fetch error (Kafka
// unreachable) is reported to readiness and retried with backoff; only a
// closed reader ends it with an error.
func (r *AsyncRunner) fetch(ctx context.Context, reader *kafka.Reader, in chan<- kafka.Message, mon *lagMonitor) error {
	retry := reconnectRetry(mon, r.log)
	for {
		m, err := backoff.Retry(ctx, func() (kafka.Message, error) {
			m, err := reader.FetchMessage(ctx)
			if errors.Is(err, io.EOF) && ctx.Err() == nil {
				return m, backoff.Permanent(errReaderClosed)
			}
			return m, err
		}, retry...)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err // the reader was closed
		}
		mon.reached()
		r.progress.Store(time.Now().UnixNano())
		r.pausedSince.Store(time.Now().UnixNano())
		fresh, err := r.tracker.Add(ctx, m)
		if err != nil {
			return nil // ctx ended while fetching was paused
		}
		if fresh {
			r.m.inFlight.WithLabelValues(r.cfg.Stage).Set(float64(r.tracker.Pending()))
			select {
			case in <- m:
			case <-ctx.Done():
				return nil
			}
		} else {
			r.m.finished(r.cfg.Stage, Outcome{Result: Duplicate})
		}
		r.pausedSince.Store(0)
	}
}

// committer returns the runner's committer: it releases from the tracker
// as soon as the handler reports work, so the tracker's room follows the
// handler, not the commit interval, and commits at most once per
// CommitInterval.
func (r *AsyncRunner) committer(reader *kafka.Reader, mon *lagMonitor) *committer {
	c := runnerCommitter(reader, mon, &r.progress, r.cfg.CommitInterval, r.cfg.CommitTimeout, r.cfg.Stage, r.m, r.log)
	c.release = func() []kafka.Message {
		msgs := r.tracker.Committable()
		r.m.inFlight.WithLabelValues(r.cfg.Stage).Set(float64(r.tracker.Pending()))
		return msgs
	}
	return c
}

func (r *AsyncRunner) wake() { r.commits.wake() }

type asyncAcks struct{ r *AsyncRunner }

func (a asyncAcks) Done(msgs ...kafka.Message) {
	for _, m := range msgs {
		if err := a.r.tracker.Done(m); err != nil {
			a.r.log.Warn().Err(err).Str("topic", m.Topic).Int("partition", m.Partition).Int64("offset", m.Offset).Msg("done reported for an unknown message")
			continue
		}
		a.r.m.finished(a.r.cfg.Stage, Outcome{Result: Sent})
	}
	a.r.wake()
}

func (a asyncAcks) Reject(ctx context.Context, m kafka.Message, err error) error {
	return a.reject(ctx, m, err, 1)
}

// duplicate, retried and reject serve Keyed (keyedAcks): the outcomes it
// reports are counted as the Processor's are.
func (a asyncAcks) duplicate(m kafka.Message) {
	if err := a.r.tracker.Done(m); err != nil {
		a.r.log.Warn().Err(err).Int64("offset", m.Offset).Msg("duplicate reported for an unknown message")
		return
	}
	a.r.m.finished(a.r.cfg.Stage, Outcome{Result: Duplicate})
	a.r.wake()
}

func (a asyncAcks) retried(n int) { a.r.m.retries.WithLabelValues(a.r.cfg.Stage).Add(float64(n)) }

func (a asyncAcks) reject(ctx context.Context, m kafka.Message, err error, attempts int) error {
	if derr := a.r.dl.Write(ctx, m, err, attempts); derr != nil {
		return derr
	}
	a.r.m.finished(a.r.cfg.Stage, Outcome{Result: DeadLettered, Err: err})
	if terr := a.r.tracker.Done(m); terr != nil {
		a.r.log.Warn().Err(terr).Int64("offset", m.Offset).Msg("rejected an unknown message")
	}
	a.r.wake()
	return nil
}
