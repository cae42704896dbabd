package consume

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
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

// Processor finishes batches: the stage's handler wrapped, outermost
// first, by Retrying, Deduplicating and DeadLettering. It is not safe for
// concurrent use; one source goroutine drives it.
type Processor struct {
	cfg     ProcessorConfig
	handler Handler // the chain
	log     zerolog.Logger
	m       *metrics
}

// NewProcessor validates cfg and builds a processor around h writing dead
// letters with dlq.
func NewProcessor(cfg ProcessorConfig, h Handler, dlq MessageWriter, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*Processor, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("consume: the handler of stage %s is nil", cfg.Stage)
	}
	dedupe, err := Deduplicating(cfg.DedupeWindow)
	if err != nil {
		return nil, err
	}
	p := &Processor{cfg: cfg, log: log, m: newMetrics(reg)}
	p.handler = Chain(h,
		Retrying(cfg.backoff(), p.retrying),
		dedupe,
		DeadLettering(cfg.deadLetterer(dlq, codec, log)),
	)
	return p, nil
}

func (p *Processor) retrying(err error, pending, attempt int, next time.Duration) {
	p.m.retries.WithLabelValues(p.cfg.Stage).Add(float64(pending))
	p.log.Warn().Err(err).Int("messages", pending).Int("round", attempt).
		Dur("retry_in", next).Msg("sink failed, holding the batch and retrying")
}

// Process finishes msgs and reports each one's outcome: sent, duplicate
// or dead-lettered (all done), or failed. It returns early, with some
// messages failed, only when ctx is cancelled while the sink keeps failing
// (the error is then ctx's) or for a fatal error (a handler returning the
// wrong number of results, a dead letter that cannot be encoded).
// Retryable failures are retried while holding the batch: nothing new is
// fetched, nothing is skipped.
func (p *Processor) Process(ctx context.Context, msgs []kafka.Message) ([]Outcome, error) {
	start := time.Now()
	p.m.inFlight.WithLabelValues(p.cfg.Stage).Add(float64(len(msgs)))
	defer func() {
		p.m.batch.WithLabelValues(p.cfg.Stage).Observe(time.Since(start).Seconds())
		p.m.inFlight.WithLabelValues(p.cfg.Stage).Set(0)
	}()
	errs := call(ctx, p.handler, msgs)
	outcomes := make([]Outcome, len(msgs))
	var failed error
	for i, err := range errs {
		o := OutcomeOf(err)
		outcomes[i] = o
		if o.Done() {
			p.m.finished(p.cfg.Stage, o)
			continue
		}
		if failed == nil || isFatal(err) && !isFatal(failed) {
			failed = err
		}
	}
	switch {
	case failed == nil:
		return outcomes, nil
	case isFatal(failed):
		return outcomes, failed
	case ctx.Err() != nil:
		return outcomes, context.Cause(ctx)
	default:
		return outcomes, fmt.Errorf("consume: a message failed without being retried: %w", failed)
	}
}

func (c ProcessorConfig) backoff() Backoff {
	return Backoff{Min: c.MinBackoff, Max: c.MaxBackoff, MaxWait: c.MaxWait}
}

func (c ProcessorConfig) deadLetterer(w MessageWriter, codec *records.Codec, log zerolog.Logger) *DeadLetterer {
	return &DeadLetterer{Stage: c.Stage, Topic: c.DLQTopic, Writer: w, Codec: codec, Backoff: c.backoff(), Log: log}
}
