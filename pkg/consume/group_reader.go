package consume

import (
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
)

// newGroupReader returns the consumer-group reader both runners use. Every
// setting is explicit because kafka-go's defaults do not suit: commits are
// synchronous (a commit returns once durable), MaxWait is short so Close
// returns quickly, and a killed member's partitions move after SessionTimeout
// (10 s with 3 s heartbeats, against kafka-go's 30 s). onError, if not nil,
// is called whenever the reader reports an error (readiness uses it).
func newGroupReader(kcfg kafkaconf.Config, group string, topics []string, queue int, log zerolog.Logger, onError func()) (*kafka.Reader, error) {
	dialer, err := kcfg.Dialer()
	if err != nil {
		return nil, err
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
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) {
			if onError != nil {
				onError()
			}
			log.Warn().Msgf(f, a...)
		}),
	}), nil
}
