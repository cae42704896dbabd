package consume

import (
	"context"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// MessageWriter writes messages durably (a kafka.Writer with acks=all).
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// ProcessorConfig configures batch processing.
type ProcessorConfig struct {
	Stage        string        // metrics label and DeadLetter.stage
	DLQTopic     string        // where permanent failures go
	MinBackoff   time.Duration // first retry delay (default 200ms)
	MaxBackoff   time.Duration // cap of the retry interval (default 3s; delays within ±50 %)
	MaxWait      time.Duration // cap of a sink's Retry-After (default 5m)
	DedupeWindow int           // event ids remembered (default 100000; negative disables)
}

func (c *ProcessorConfig) defaults() error {
	if c.Stage == "" {
		return fmt.Errorf("consume: Stage is empty")
	}
	if c.DLQTopic == "" {
		return fmt.Errorf("consume: DLQTopic is empty for stage %s", c.Stage)
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 200 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		// Short on purpose: each retry probes the sink, so a sink that is
		// back is used within a few seconds rather than after a long sleep.
		c.MaxBackoff = 3 * time.Second
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 5 * time.Minute
	}
	if c.DedupeWindow == 0 {
		c.DedupeWindow = 100_000
	}
	return nil
}

// Processor finishes batches: it drops duplicates, calls the handler,
// retries retryable failures and dead-letters permanent ones. It is not
// safe for concurrent use; one source goroutine drives it.
type Processor struct {
	cfg     ProcessorConfig
	handler Handler
	dlq     MessageWriter
	codec   *records.Codec
	log     zerolog.Logger
	m       *metrics
	seen    *lru.Cache[string, struct{}]
}

// NewProcessor validates cfg and builds a processor writing dead letters
// with dlq.
func NewProcessor(cfg ProcessorConfig, h Handler, dlq MessageWriter, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*Processor, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	p := &Processor{cfg: cfg, handler: h, dlq: dlq, codec: codec, log: log, m: newMetrics(reg)}
	if cfg.DedupeWindow > 0 {
		seen, err := lru.New[string, struct{}](cfg.DedupeWindow)
		if err != nil {
			return nil, fmt.Errorf("consume: dedupe window: %w", err)
		}
		p.seen = seen
	}
	return p, nil
}

// Process finishes msgs and reports which are done (handled, dead-lettered
// or duplicate). It returns early, with some messages not done, only when
// ctx is cancelled while the sink keeps failing; the error is then ctx's.
// Retryable failures are retried while holding the batch: nothing new is
// fetched, nothing is skipped.
func (p *Processor) Process(ctx context.Context, msgs []kafka.Message) ([]bool, error) {
	start := time.Now()
	done := make([]bool, len(msgs))
	attempts := make([]int32, len(msgs))
	p.m.inFlight.WithLabelValues(p.cfg.Stage).Add(float64(len(msgs)))
	defer func() {
		p.m.batch.WithLabelValues(p.cfg.Stage).Observe(time.Since(start).Seconds())
		p.m.inFlight.WithLabelValues(p.cfg.Stage).Set(0)
	}()

	var pending []int
	var inBatch map[string]struct{}
	if p.seen != nil {
		inBatch = make(map[string]struct{}, len(msgs))
	}
	for i, m := range msgs {
		key := dedupeKey(m)
		if key != "" && p.seen != nil {
			_, again := inBatch[key]
			if again || p.seen.Contains(key) {
				// A later copy in the same batch is done once the first is:
				// the commit cannot pass the first copy before that.
				done[i] = true
				p.m.messages.WithLabelValues(p.cfg.Stage, "duplicate").Inc()
				continue
			}
			inBatch[key] = struct{}{}
		}
		pending = append(pending, i)
	}
	if len(pending) == 0 {
		return done, nil
	}

	var fatal error // not retryable: a broken handler or a DLQ write cut short
	err := Retry(ctx, p.cfg.backoff(), func(int) error {
		sub := make([]kafka.Message, len(pending))
		for j, i := range pending {
			sub[j] = msgs[i]
		}
		errs := p.handler.Handle(ctx, sub)
		if len(errs) != len(sub) {
			fatal = fmt.Errorf("consume: handler returned %d results for %d messages", len(errs), len(sub))
			return sinkerr.NewPermanent(fatal)
		}
		var retry []int
		var wait time.Duration
		var firstErr error
		for j, i := range pending {
			attempts[i]++
			err := errs[j]
			switch sinkerr.Classify(err) {
			case sinkerr.ClassSuccess:
				p.finish(msgs[i], "success")
				done[i] = true
			case sinkerr.ClassPermanent:
				if derr := p.deadLetter(ctx, msgs[i], err, attempts[i]); derr != nil {
					fatal = derr
					return sinkerr.NewPermanent(derr)
				}
				done[i] = true
			default:
				if ra, ok := sinkerr.Retryable(err); ok && ra > wait {
					wait = ra
				}
				if firstErr == nil {
					firstErr = err
				}
				retry = append(retry, i)
			}
		}
		pending = retry
		if len(retry) == 0 {
			return nil
		}
		p.m.retries.WithLabelValues(p.cfg.Stage).Add(float64(len(retry)))
		return sinkerr.NewRetryable(firstErr, wait)
	}, func(err error, round int, next time.Duration) {
		p.log.Warn().Err(err).Int("messages", len(pending)).Int("round", round).
			Dur("retry_in", next).Msg("sink failed, holding the batch and retrying")
	})
	if fatal != nil {
		return done, fatal
	}
	return done, err
}

func (p *Processor) finish(m kafka.Message, outcome string) {
	p.m.messages.WithLabelValues(p.cfg.Stage, outcome).Inc()
	if key := dedupeKey(m); key != "" && p.seen != nil {
		p.seen.Add(key, struct{}{})
	}
}

func (c ProcessorConfig) backoff() Backoff {
	return Backoff{Min: c.MinBackoff, Max: c.MaxBackoff, MaxWait: c.MaxWait}
}

// deadLetter writes m to the DLQ topic, retrying the write (a Kafka outage
// is not the record's fault) until it succeeds or ctx ends.
func (p *Processor) deadLetter(ctx context.Context, m kafka.Message, cause error, attempts int32) error {
	reason := ReasonOf(cause)
	headers := make(map[string]string, len(m.Headers))
	for _, h := range m.Headers {
		headers[h.Key] = string(h.Value)
	}
	dl := &records.DeadLetter{
		Stage:           p.cfg.Stage,
		Reason:          reason,
		Error:           cause.Error(),
		Attempts:        attempts,
		FailedAt:        time.Now().UTC(),
		SourceTopic:     &m.Topic,
		SourcePartition: int32(m.Partition),
		SourceOffset:    m.Offset,
		Key:             m.Key,
		Value:           m.Value,
		Headers:         headers,
	}
	if id := records.Header(m, "event_id"); id != "" {
		dl.EventID = &id
	}
	out, err := p.codec.Message(p.cfg.DLQTopic, m.Key, dl)
	if err != nil {
		return fmt.Errorf("encoding dead letter: %w", err)
	}
	out.Topic = ""
	// A write error is never permanent here: Retry gives up only on ctx.
	if err := Retry(ctx, p.cfg.backoff(), func(int) error {
		if err := p.dlq.WriteMessages(ctx, out); err != nil {
			return sinkerr.NewRetryable(err, 0)
		}
		return nil
	}, func(err error, _ int, next time.Duration) {
		p.log.Error().Err(err).Str("topic", p.cfg.DLQTopic).Dur("retry_in", next).Msg("writing dead letter failed")
	}); err != nil {
		return err
	}
	p.log.Warn().Str("reason", reason).Err(cause).Str("topic", m.Topic).Int("partition", m.Partition).
		Int64("offset", m.Offset).Str("key", string(m.Key)).Msg("dead-lettered")
	p.m.dlq.WithLabelValues(p.cfg.Stage, reason).Inc()
	p.finish(m, "dead_letter")
	return nil
}

func dedupeKey(m kafka.Message) string {
	id := records.Header(m, "event_id")
	if id == "" {
		return ""
	}
	return m.Topic + "/" + id
}
