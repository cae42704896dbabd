package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// messageWriter writes durably: a kafka.Writer with RequiredAcks=RequireAll.
type messageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// delivery is a push waiting for its record to be durable, or an invalid
// line waiting to be quarantined (push nil, msg set at once). A push's
// record is built by the writer (encode), off the connection's reading
// goroutine.
type delivery struct {
	push     *snoti.Push
	msg      kafka.Message
	received time.Time
	encoded  bool
}

// pipeline turns pushes into Kafka records and ACKs each push only after
// Kafka acknowledged its record. Its queue holds at most what SNoti may
// leave un-ACKed (prefetch × connections) plus a bounded number of invalid
// lines, so nothing grows without limit while Kafka is down: SNoti stops
// pushing once prefetch is reached.
type pipeline struct {
	cfg    Config
	w      messageWriter
	codec  *records.Codec
	log    zerolog.Logger
	m      *metrics
	queue  chan delivery
	closed atomic.Bool // set at shutdown: later pushes are left to SNoti's redelivery

	kafkaOK atomic.Bool // the last write succeeded
}

func newPipeline(cfg Config, w messageWriter, codec *records.Codec, log zerolog.Logger, m *metrics) *pipeline {
	return &pipeline{
		cfg: cfg, w: w, codec: codec, log: log, m: m,
		queue: make(chan delivery, cfg.Prefetch*cfg.Connections+1024),
	}
}

// HandlePush implements snoti.Handler. It runs on a connection's reading
// goroutine and never blocks: the queue has room for every un-ACKed push.
func (p *pipeline) HandlePush(push *snoti.Push) {
	if p.closed.Load() {
		p.m.ignored.Inc()
		return
	}
	p.m.inFlight.Inc()
	p.queue <- delivery{push: push, received: time.Now()}
}

// HandleInvalid implements snoti.Handler: the line goes to the invalid
// topic with its bytes and the reason. When many arrive while Kafka is down
// this blocks the reading goroutine, which is the backpressure we want.
func (p *pipeline) HandleInvalid(inv snoti.Invalid) {
	if p.closed.Load() {
		return
	}
	dl := &records.DeadLetter{
		Stage: "ingest", Reason: inv.Kind, Error: inv.Reason, Attempts: 1,
		FailedAt: time.Now().UTC(), SourcePartition: -1, SourceOffset: -1, Value: inv.Line,
	}
	msg, err := p.codec.Message(p.cfg.TopicInvalid, nil, dl)
	if err != nil {
		p.log.Error().Err(err).Msg("encoding invalid line")
		return
	}
	p.log.Warn().Str("reason", inv.Kind).Str("detail", inv.Reason).Int("bytes", len(inv.Line)).Msg("quarantining invalid SNoti line")
	p.queue <- delivery{msg: msg, received: time.Now(), encoded: true}
}

// encodeParallelMin is the batch size from which records are built on
// several goroutines; below it the overhead is not worth it.
const encodeParallelMin = 256

// encode builds the Kafka records of the batch's pushes in place, using
// every core for large batches (order is kept: each goroutine owns a
// contiguous slice). A push whose record cannot be encoded — impossible
// with a valid schema — is quarantined with its line rather than lost.
func (p *pipeline) encode(batch []delivery) {
	workers := min(runtime.GOMAXPROCS(0), (len(batch)+encodeParallelMin-1)/encodeParallelMin)
	if workers <= 1 {
		p.encodeRange(batch)
		return
	}
	var wg sync.WaitGroup
	chunk := (len(batch) + workers - 1) / workers
	for lo := 0; lo < len(batch); lo += chunk {
		part := batch[lo:min(lo+chunk, len(batch))]
		wg.Add(1)
		go func() { defer wg.Done(); p.encodeRange(part) }()
	}
	wg.Wait()
}

func (p *pipeline) encodeRange(batch []delivery) {
	for i := range batch {
		d := &batch[i]
		if d.encoded {
			continue
		}
		msg, err := p.codec.Message("", recordKey(d.push), toEvent(d.push, p.cfg.Protocol, d.received))
		if err != nil {
			dl := &records.DeadLetter{Stage: "ingest", Reason: "encode_failed", Error: err.Error(), Attempts: 1,
				FailedAt: time.Now().UTC(), SourcePartition: -1, SourceOffset: -1, Value: d.push.Raw}
			if msg, err = p.codec.Message("", nil, dl); err != nil {
				p.log.Error().Err(err).Msg("encoding a dead letter")
				continue
			}
			msg.Topic = p.cfg.TopicInvalid
		} else {
			msg.Topic = p.cfg.TopicEvents
		}
		d.msg, d.encoded = msg, true
	}
}

// Run writes and ACKs until ctx is cancelled, then stops taking pushes and
// finishes what it holds (write, ACK) within drain, which bounds the
// shutdown. What it could not finish is not ACKed: SNoti redelivers it.
func (p *pipeline) Run(ctx context.Context, drain time.Duration) error {
	batch := make([]delivery, 0, p.cfg.BatchSize)
	for {
		select {
		case d := <-p.queue:
			batch = p.fill(append(batch[:0], d))
			if rest, err := p.write(ctx, batch); err != nil {
				return p.shutdown(rest, drain)
			}
		case <-ctx.Done():
			return p.shutdown(nil, drain)
		}
	}
}

// fill adds whatever is queued, without waiting, up to BatchSize. While one
// write is in flight the next batch builds up, so batches grow with load.
func (p *pipeline) fill(batch []delivery) []delivery {
	for len(batch) < p.cfg.BatchSize {
		select {
		case d := <-p.queue:
			batch = append(batch, d)
		default:
			return batch
		}
	}
	return batch
}

func (p *pipeline) shutdown(pending []delivery, drain time.Duration) error {
	p.closed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	batch := p.fill(pending)
	for len(batch) > 0 {
		if rest, err := p.write(ctx, batch); err != nil {
			left := len(rest) + len(p.queue)
			p.log.Warn().Int("deliveries", left).Msg("shutdown deadline reached with records not durable: left un-ACKed for SNoti to redeliver")
			return nil
		}
		batch = p.fill(batch[:0])
	}
	p.log.Info().Msg("in-flight deliveries written and ACKed")
	return nil
}

// write makes the batch durable, retrying what Kafka refused with capped
// backoff until it succeeds or ctx ends, and ACKs each push as soon as its
// record is acknowledged. A context timeout does not prove a record was not
// written; it is simply not ACKed, and a redelivery becomes a duplicate that
// downstream stages drop by event_id. On error it returns the deliveries
// still not durable.
func (p *pipeline) write(ctx context.Context, batch []delivery) ([]delivery, error) {
	p.encode(batch)
	pending := batch
	for attempt := 0; ; attempt++ {
		msgs := make([]kafka.Message, len(pending))
		for i, d := range pending {
			msgs[i] = d.msg
		}
		start := time.Now()
		err := p.w.WriteMessages(context.WithoutCancel(ctx), msgs...)
		p.m.writeTime.Observe(time.Since(start).Seconds())

		var failed []delivery
		var werrs kafka.WriteErrors
		switch {
		case err == nil:
			p.done(pending)
		case errors.As(err, &werrs) && len(werrs) == len(pending):
			ok := make([]delivery, 0, len(pending))
			for i, d := range pending {
				if werrs[i] == nil {
					ok = append(ok, d)
				} else {
					failed = append(failed, d)
				}
			}
			p.done(ok)
		default:
			failed = pending
		}
		if len(failed) == 0 {
			p.kafkaOK.Store(true)
			return nil, nil
		}
		p.kafkaOK.Store(false)
		p.m.writeErrors.Inc()
		delay := min(100*time.Millisecond<<min(attempt, 10), p.cfg.RetryBackoffMax)
		delay = delay/2 + rand.N(delay/2+1)
		p.log.Error().Err(err).Int("records", len(failed)).Dur("retry_in", delay).Msg("Kafka write failed; not ACKing, retrying")
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return failed, fmt.Errorf("writing to Kafka: %w", ctx.Err())
		case <-t.C:
		}
		pending = failed
	}
}

// done ACKs the pushes whose records are durable, in batch order.
func (p *pipeline) done(ds []delivery) {
	now := time.Now()
	for _, d := range ds {
		p.m.written.WithLabelValues(d.msg.Topic).Inc()
		if d.push == nil {
			p.m.quarantined.WithLabelValues(records.Header(d.msg, "reason")).Inc()
			continue
		}
		d.push.Ack()
		p.m.acks.Inc()
		p.m.inFlight.Dec()
		p.m.ackLatency.Observe(now.Sub(d.received).Seconds())
	}
}
