package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
)

// Scanner reads the ranges of a plan with one partition reader each — no
// consumer group, offsets set explicitly — and delivers the messages on one
// channel, each partition's in offset order.
type Scanner struct {
	kafka kafkaconf.Config
	plan  Plan
	out   chan kafka.Message
	log   zerolog.Logger
}

// NewScanner builds a scanner of plan; buffer bounds the messages read
// ahead of the consumer of Messages.
func NewScanner(kcfg kafkaconf.Config, plan Plan, buffer int, log zerolog.Logger) *Scanner {
	if buffer < 1 {
		buffer = 1
	}
	return &Scanner{kafka: kcfg, plan: plan, out: make(chan kafka.Message, buffer), log: log}
}

// Messages is closed when Run returns.
func (s *Scanner) Messages() <-chan kafka.Message { return s.out }

// Run reads until every bounded range is read, ctx ends or a reader fails
// (its error is returned; a cancelled ctx returns nil). It must be called
// once; it closes Messages when it returns. Unbounded ranges are read until
// ctx ends.
func (s *Scanner) Run(ctx context.Context) error {
	defer close(s.out)
	dialer, err := s.kafka.Dialer()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range s.plan.Ranges {
		if r.End != Unbounded && r.Start >= r.End {
			continue
		}
		g.Go(func() error { return s.read(gctx, dialer, r) })
	}
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Scanner) read(ctx context.Context, dialer *kafka.Dialer, r PartitionRange) error {
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   s.kafka.Addrs(),
		Topic:     r.Topic,
		Partition: r.Partition,
		Dialer:    dialer,
		MinBytes:  1,
		MaxBytes:  10 << 20,
		// A short MaxWait: Close waits for a pending fetch.
		MaxWait:        250 * time.Millisecond,
		QueueCapacity:  256,
		ReadBackoffMin: 100 * time.Millisecond,
		ReadBackoffMax: 2 * time.Second,
		ErrorLogger:    kafka.LoggerFunc(func(f string, a ...any) { s.log.Warn().Msgf(f, a...) }),
	})
	defer reader.Close()
	if err := reader.SetOffset(r.Start); err != nil {
		return fmt.Errorf("seeking %s/%d to %d: %w", r.Topic, r.Partition, r.Start, err)
	}
	for {
		m, err := reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading %s/%d: %w", r.Topic, r.Partition, err)
		}
		if r.End != Unbounded && m.Offset >= r.End {
			return nil
		}
		select {
		case s.out <- m:
		case <-ctx.Done():
			return nil
		}
		if r.End != Unbounded && m.Offset+1 >= r.End {
			return nil
		}
	}
}
