package consume

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// offsetCommitter commits consumer-group offsets: kafka.Reader.
type offsetCommitter interface {
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// committer is the offset committer of both runners: it commits in the
// background what they report committable, so that neither fetching nor
// processing waits for a commit (one takes from a few to tens of
// milliseconds). What it is given is, per topic-partition, the last message
// before which everything is done (ContiguousDone for a Runner's batch, the
// Tracker for the AsyncRunner); it merges that per partition, keeping the
// highest offset (everything below it is done, so a lower one reported
// later — a redelivery after a rebalance — must not move it back), commits
// at most once per interval after something was added, retries a failed
// commit an interval later with whatever was added meanwhile, and commits
// what is left when it stops. It never invents an offset: a message not
// done is committed past only if the runner reported a later message of
// its partition committable, which the contiguous rule forbids.
//
// Rebalances: kafka-go's Reader sends a commit with the generation current
// when its commit loop takes it, and blocks it (until timeout) while no
// generation is active. A commit of a partition this member no longer owns
// is then accepted by the broker, which checks the generation, not the
// assignment. That is safe for at-least-once: the offset committed is one
// this member finished everything before, so nothing is lost; at worst it
// moves the new owner's committed offset back and records are delivered
// again. Done messages whose commit was still pending when their partition
// moved (at most a CommitInterval's worth) are likewise delivered again to
// the new owner: duplicates, as at-least-once allows — Deduplicating drops
// those whose event_id the member has seen, the others reach the sink
// twice.
type committer struct {
	reader   offsetCommitter
	interval time.Duration // shortest time between two commits
	timeout  time.Duration // bound of one commit
	// release, when set, returns what became committable since its last
	// call (the AsyncRunner's Tracker.Committable); it is called on every
	// wake-up and before each commit. A Runner adds instead.
	release func() []kafka.Message
	// offline reports whether Kafka is known unreachable: the last commit
	// of a stopping runner then waits at most shutdownCommitTimeout.
	offline func() bool
	// committed is called after every successful commit (readiness).
	committed func()
	stage     string
	m         *metrics
	log       zerolog.Logger

	// quiet keeps a broker outage, when every commit fails, to one
	// warning per period (the commits metric counts each).
	quiet   *throttle
	notify  chan struct{}
	mu      sync.Mutex
	pending map[topicPartition]kafka.Message // not yet committed, per partition
}

// newCommitter returns a committer; start runs it.
func newCommitter(reader offsetCommitter, interval, timeout time.Duration, stage string, m *metrics, log zerolog.Logger) *committer {
	return &committer{
		reader: reader, interval: interval, timeout: timeout, stage: stage, m: m, log: log,
		offline: func() bool { return false }, committed: func() {},
		quiet: &throttle{period: 30 * time.Second}, notify: make(chan struct{}, 1), pending: map[topicPartition]kafka.Message{},
	}
}

// runnerCommitter is the committer of a runner reading through reader:
// its final commit waits less once mon knows Kafka is unreachable, and
// each commit is progress for the runner's readiness.
func runnerCommitter(reader *kafka.Reader, mon *lagMonitor, progress *atomic.Int64, interval, timeout time.Duration, stage string, m *metrics, log zerolog.Logger) *committer {
	c := newCommitter(reader, interval, timeout, stage, m, log)
	c.offline = func() bool { return mon.connected() != nil }
	c.committed = func() { progress.Store(time.Now().UnixNano()) }
	return c
}

// add records msgs (per partition, the last message before which
// everything is done) for the next commit. Safe for concurrent use.
func (c *committer) add(msgs ...kafka.Message) {
	if len(msgs) == 0 {
		return
	}
	c.merge(msgs)
	c.wake()
}

// merge keeps, per partition, the highest offset of pending and msgs.
func (c *committer) merge(msgs []kafka.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		k := topicPartition{m.Topic, m.Partition}
		if p, ok := c.pending[k]; !ok || m.Offset > p.Offset {
			c.pending[k] = kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
		}
	}
}

// wake tells the loop that something may be committable. Safe for
// concurrent use; it never blocks.
func (c *committer) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// start runs the commit loop until the returned stop is called; stop waits
// for the loop, then commits what is left (the final commit, with a
// deadline of its own so that a shutdown still records the work finished
// before it).
func (c *committer) start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.loop(ctx) }()
	return func() {
		cancel()
		<-done
		c.commit(context.Background(), true)
	}
}

// loop commits after something was added or released, at most once per
// interval, until ctx ends. Between commits it keeps polling release on
// every wake-up, so the Tracker's room follows the handler, not the
// interval.
func (c *committer) loop(ctx context.Context) {
	var last time.Time
	var due <-chan time.Time // armed while something waits for the interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.notify:
			c.collect()
			if c.empty() {
				continue
			}
			if wait := c.interval - time.Since(last); wait > 0 {
				if due == nil {
					due = time.After(wait)
				}
				continue
			}
		case <-due:
		}
		due = nil
		if !c.commit(ctx, false) {
			due = time.After(c.interval) // try again
		}
		last = time.Now()
	}
}

// collect merges what release gives, if there is a release.
func (c *committer) collect() {
	if c.release != nil {
		c.merge(c.release())
	}
}

func (c *committer) empty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) == 0
}

// commit commits what is pending within timeout (or until ctx ends); the
// final commit waits less when Kafka is known to be unreachable. What was
// committed leaves pending unless a higher offset was added meanwhile. It
// reports false when the commit failed; the offsets stay pending.
func (c *committer) commit(ctx context.Context, final bool) bool {
	c.collect()
	c.mu.Lock()
	msgs := make([]kafka.Message, 0, len(c.pending))
	for _, m := range c.pending {
		msgs = append(msgs, m)
	}
	c.mu.Unlock()
	if len(msgs) == 0 {
		return true
	}
	timeout := c.timeout
	if final && c.offline() {
		timeout = min(timeout, shutdownCommitTimeout)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.reader.CommitMessages(cctx, msgs...); err != nil {
		c.m.commits.WithLabelValues(c.stage, "error").Inc()
		if final {
			c.log.Warn().Err(err).Int("partitions", len(msgs)).Msg("committing offsets at shutdown failed; the messages will be delivered again")
		} else {
			c.quiet.level(c.log).Err(err).Int("partitions", len(msgs)).Msg("committing offsets failed; retrying")
		}
		return false
	}
	c.mu.Lock()
	for _, m := range msgs {
		k := topicPartition{m.Topic, m.Partition}
		if p, ok := c.pending[k]; ok && p.Offset <= m.Offset {
			delete(c.pending, k)
		}
	}
	c.mu.Unlock()
	c.m.commits.WithLabelValues(c.stage, "ok").Inc()
	c.committed()
	if c.log.GetLevel() <= zerolog.TraceLevel {
		for _, m := range msgs {
			c.log.Trace().Str("topic", m.Topic).Int("partition", m.Partition).Str("offset", strconv.FormatInt(m.Offset, 10)).Msg("committed")
		}
	}
	return true
}
