package consume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
)

// newGroupReader returns the consumer-group reader both runners use, and
// the lag monitor of the member it joins as. Every setting is explicit
// because kafka-go's defaults do not suit: commits are synchronous (a commit
// returns once durable), MaxWait is short so Close returns quickly, and a
// killed member's partitions move after SessionTimeout (10 s with 3 s
// heartbeats, against kafka-go's 30 s). The reader joins with a client id of
// its own, which is how the monitor finds the partitions assigned to it.
func newGroupReader(kcfg kafkaconf.Config, group string, topics []string, queue int, log zerolog.Logger, stage string, m *metrics, lagInterval time.Duration) (*kafka.Reader, *lagMonitor, error) {
	dialer, err := kcfg.Dialer()
	if err != nil {
		return nil, nil, err
	}
	client, err := kcfg.Client()
	if err != nil {
		return nil, nil, err
	}
	quiet := &throttle{period: 30 * time.Second}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	dialer.ClientID = "snotibridge-" + group + "-" + hex.EncodeToString(suffix[:])
	mon := &lagMonitor{
		admin: client, group: group, clientID: dialer.ClientID, stage: stage,
		interval: lagInterval, gauge: m.lag, log: log,
	}
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:               kcfg.Addrs(),
		GroupID:               group,
		GroupTopics:           topics,
		Dialer:                dialer,
		MinBytes:              1,
		MaxBytes:              10 << 20,
		MaxWait:               250 * time.Millisecond,
		QueueCapacity:         queue,
		CommitInterval:        0,
		StartOffset:           kafka.FirstOffset,
		HeartbeatInterval:     3 * time.Second,
		SessionTimeout:        10 * time.Second,
		RebalanceTimeout:      30 * time.Second,
		JoinGroupBackoff:      time.Second,
		ReadBackoffMin:        100 * time.Millisecond,
		ReadBackoffMax:        2 * time.Second,
		WatchPartitionChanges: true,
		// kafka-go reports every failed attempt (one a second while the
		// broker is away): one warning per period, the rest at debug.
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) {
			quiet.level(log).Msgf(f, a...)
		}),
	}), mon, nil
}

// closeIdle closes the idle connections of the monitor's client.
func (l *lagMonitor) closeIdle() {
	if c, ok := l.admin.(*kafka.Client); ok {
		if tr, ok := c.Transport.(*kafka.Transport); ok {
			tr.CloseIdleConnections()
		}
	}
}

// errReaderClosed is FetchMessage's io.EOF: the reader was closed under the
// runner, which only a bug does.
var errReaderClosed = errors.New("fetching: reader closed")

// shutdownCommitTimeout bounds the last commit of a stopping runner while
// Kafka is unreachable: what it cannot commit is delivered again anyway,
// and waiting longer only delays the shutdown.
const shutdownCommitTimeout = 2 * time.Second

// readerCloseTimeout bounds Close of a reader: with the broker gone,
// leaving the group cannot succeed and need not be waited for.
const readerCloseTimeout = 5 * time.Second

// reconnectRetry is how both runners wait after the reader reported that
// it cannot reach the group (kafka-go already waits JoinGroupBackoff
// between joins): backoff.Retry options with no limit, reporting each
// failure to readiness and, throttled, to the log. One set serves one
// fetch loop: its backoff restarts at every Retry call.
func reconnectRetry(mon *lagMonitor, log zerolog.Logger) []backoff.RetryOption {
	quiet := &throttle{period: 30 * time.Second}
	return []backoff.RetryOption{
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval: 100 * time.Millisecond, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 2 * time.Second,
		}),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, delay time.Duration) {
			mon.failed(err)
			quiet.level(log).Err(err).Dur("retry_in", delay).Msg("Kafka unreachable; the consumer keeps trying")
		}),
	}
}

// start runs the monitor's lag poll until the returned function is
// called; that function waits for the poll to end and releases the
// monitor. The poll outlives ctx's cancellation, for the final commit.
func (l *lagMonitor) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); l.run(ctx) }()
	return func() { cancel(); <-done; l.stop(); l.closeIdle() }
}

// closeReader closes reader, waiting at most readerCloseTimeout: the
// broker's session timeout frees the partitions of a member that could not
// say goodbye.
func closeReader(reader *kafka.Reader, log zerolog.Logger) {
	done := make(chan struct{})
	go func() { defer close(done); _ = reader.Close() }()
	select {
	case <-done:
	case <-time.After(readerCloseTimeout):
		log.Warn().Dur("waited", readerCloseTimeout).Msg("closing the Kafka reader takes too long; leaving it")
	}
}

// throttle lets one message through per period at warning level; the
// others go out at debug, so an outage of an hour logs a few hundred lines,
// not tens of thousands.
type throttle struct {
	period time.Duration
	last   atomic.Int64 // unix nanos of the last warning
}

func (t *throttle) level(log zerolog.Logger) *zerolog.Event {
	now := time.Now().UnixNano()
	last := t.last.Load()
	if now-last >= int64(t.period) && t.last.CompareAndSwap(last, now) {
		return log.Warn()
	}
	return log.Debug()
}
