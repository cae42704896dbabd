package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// Writer writes durably: a kafka.Writer with RequiredAcks=RequireAll (see
// kafkaconf.Config.NewWriter). WriteMessages returning nil means every
// message is acknowledged by all in-sync replicas; a kafka.WriteErrors
// says which ones are not.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Source is what feeds a Pipeline: a snoti.Client, one per connection.
type Source interface {
	// Run delivers pushes to h until ctx is cancelled.
	Run(ctx context.Context, h snoti.Handler) error
	// FlushAcks waits until the ACKs queued so far are written.
	FlushAcks(ctx context.Context) error
}

// Pipeline turns pushes into Kafka records and ACKs each push only after
// Kafka acknowledged its record. Its queue holds at most what SNoti may
// leave un-ACKed (Config.MaxUnacked) plus a bounded number of invalid
// lines, so nothing grows without limit while Kafka is down: SNoti stops
// pushing once prefetch is reached.
type Pipeline struct {
	cfg    Config
	w      Writer
	codec  *records.Codec
	log    zerolog.Logger
	m      *Metrics
	queue  chan queued
	closed atomic.Bool // set at shutdown: later pushes are left to SNoti's redelivery

	kafkaOK atomic.Bool // the last write succeeded

	// msgs is writeMessages' argument, reused from write to write (only
	// the writing goroutine uses it; the Writer copies what it keeps).
	msgs []kafka.Message
}

// New validates cfg and builds a pipeline writing through w. m may be nil
// (the pipeline then counts into unregistered collectors).
func New(cfg Config, w Writer, codec *records.Codec, log zerolog.Logger, m *Metrics) (*Pipeline, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	if w == nil || codec == nil {
		return nil, errors.New("ingest: a Writer and a records.Codec are required")
	}
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	return &Pipeline{
		cfg: cfg, w: w, codec: codec, log: log, m: m,
		queue: make(chan queued, cfg.MaxUnacked+invalidQueue),
	}, nil
}

// queued is what the queue holds per push or invalid line until the writer
// takes it into a batch (delivery). It is small on purpose: the queue has
// room for every push SNoti may leave un-ACKed (up to snoti.MaxPrefetch per
// connection), and a channel's buffer is allocated whole.
type queued struct {
	push     *snoti.Push
	received time.Time
	invalid  *delivery // an invalid line's delivery, built at once (push nil)
}

// delivery is the batch entry the writer builds from q.
func (q queued) delivery() delivery {
	if q.invalid != nil {
		return *q.invalid
	}
	return delivery{push: q.push, received: q.received}
}

// Ready reports whether the last Kafka write succeeded (a readiness check:
// false until the first write, and while Kafka refuses writes).
func (p *Pipeline) Ready(context.Context) error {
	if !p.kafkaOK.Load() {
		return errors.New("no successful Kafka write yet, or the last one failed")
	}
	return nil
}

// HandlePush implements snoti.Handler. It runs on a connection's reading
// goroutine and never blocks: the queue has room for every un-ACKed push.
func (p *Pipeline) HandlePush(push *snoti.Push) {
	if p.closed.Load() {
		p.m.Ignored.Inc()
		return
	}
	p.m.InFlight.Inc()
	p.queue <- queued{push: push, received: time.Now()}
}

// HandleInvalid implements snoti.Handler: the line goes to the invalid
// topic with its bytes and the reason; an over-long push whose delivery id
// could be read is ACKed once its dead letter is durable. When many arrive
// while Kafka is down this blocks the reading goroutine, which is the
// backpressure we want.
func (p *Pipeline) HandleInvalid(inv snoti.Invalid) {
	if p.closed.Load() {
		return
	}
	dl := &records.DeadLetter{
		Stage: "ingest", Reason: inv.Kind, Error: inv.Reason, Attempts: 1,
		FailedAt: time.Now().UTC(), SourcePartition: -1, SourceOffset: -1, Value: inv.Line,
	}
	if inv.CanAck() {
		dl.Headers = map[string]string{"delivery_id": string(inv.DeliveryID), "line_bytes": strconv.Itoa(inv.Size)}
	}
	msg, err := p.codec.Message(p.cfg.TopicInvalid, nil, dl)
	if err != nil {
		p.log.Error().Err(err).Msg("encoding invalid line")
		return
	}
	p.log.Warn().Str("reason", inv.Kind).Str("detail", inv.Reason).Int("bytes", inv.Size).Bool("acked_when_kept", inv.CanAck()).Msg("quarantining invalid SNoti line")
	p.queue <- queued{invalid: &delivery{inv: &inv, msg: msg, received: time.Now(), encoded: true, dl: dl, level: levelQuarantined}}
}

// encodeParallelMin is the batch size from which records are built on
// several goroutines; below it the overhead is not worth it.
const encodeParallelMin = 256

// encode builds the Kafka records of the batch's pushes in place, using
// every core for large batches (order is kept: each goroutine owns a
// contiguous slice). A push whose record cannot be encoded — impossible
// with a valid schema — is quarantined with its line rather than lost.
func (p *Pipeline) encode(batch []delivery) {
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

// encodeRange builds the records of one contiguous part of a batch. They
// share their buffers (records.Batch): a few large chunks instead of a
// value and a header slice per record, each rounded up to its allocation
// size class, which held a third more memory than the records' bytes while
// a batch was written. The chunks go with the batch.
func (p *Pipeline) encodeRange(batch []delivery) {
	var b *records.Batch // made for the first record to build
	for i := range batch {
		d := &batch[i]
		if d.encoded {
			continue
		}
		if b == nil {
			b = p.codec.NewBatch(len(batch) - i)
		}
		msg, err := b.EventMessage(p.cfg.TopicEvents, RecordKey(d.push), eventOf(d.push, p.cfg.Protocol, d.received), d.push.Raw)
		d.msg, d.encoded = msg, true
		if err != nil {
			p.quarantine(d, "encode_failed", err.Error())
		}
	}
}

// Run feeds the pipeline from the sources (each one's Run with the
// pipeline as its handler) and writes and ACKs until ctx is cancelled.
// Shutdown is ordered: stop taking pushes, write and ACK what the pipeline
// holds within Config.DrainTimeout, let the ACKs reach SNoti (FlushAcks, up to
// 5 s), then stop the sources. The sources outlive ctx for that: they must
// still carry the ACKs of the records finished during the drain. What
// could not be finished is not ACKed: SNoti redelivers it. Run returns the
// sources' errors; the pipeline itself never fails.
func (p *Pipeline) Run(ctx context.Context, sources ...Source) error {
	sctx, stopSources := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSources()
	var wg sync.WaitGroup
	errs := make(chan error, len(sources))
	for _, s := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(sctx, p); err != nil {
				errs <- err
			}
		}()
	}
	err := p.run(ctx)
	// Let the ACKs queued by the drain reach the server before closing.
	flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	for _, s := range sources {
		if err := s.FlushAcks(flushCtx); err != nil {
			p.log.Warn().Err(err).Msg("ACKs not flushed before close; SNoti will redeliver those pushes")
		}
	}
	cancel()
	stopSources()
	wg.Wait()
	close(errs)
	for e := range errs {
		err = errors.Join(err, e)
	}
	return err
}

// run writes and ACKs until ctx is cancelled, then stops taking pushes and
// finishes what it holds (write, ACK) within Config.DrainTimeout.
func (p *Pipeline) run(ctx context.Context) error {
	batch := make([]delivery, 0, p.cfg.BatchSize)
	for {
		select {
		case q := <-p.queue:
			batch = p.fill(append(batch[:0], q.delivery()))
			rest, err := p.write(ctx, batch)
			if err != nil {
				return p.shutdown(rest)
			}
			// Drop the finished pushes and records now, not when the
			// next batches overwrite them: up to BatchSize of each.
			clear(batch)
		case <-ctx.Done():
			return p.shutdown(nil)
		}
	}
}

// fill adds whatever is queued, without waiting, up to BatchSize. While one
// write is in flight the next batch builds up, so batches grow with load.
func (p *Pipeline) fill(batch []delivery) []delivery {
	for len(batch) < p.cfg.BatchSize {
		select {
		case q := <-p.queue:
			batch = append(batch, q.delivery())
		default:
			return batch
		}
	}
	return batch
}

func (p *Pipeline) shutdown(pending []delivery) error {
	p.closed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.DrainTimeout)
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

// retryBackoffMin is the delay bound before the second attempt of a write.
const retryBackoffMin = 100 * time.Millisecond

// retryPolicy is the backoff between attempts of one write: bound d from
// 100 ms doubling per attempt up to RetryBackoffMax, each delay drawn in
// [d/2, d] so the cap is never exceeded (INGEST_RETRY_BACKOFF_MAX is "the
// cap of the delay"). cenkalti/backoff draws within ±RandomizationFactor of
// its interval, so an interval of ¾·d with a factor of ⅓ spans exactly
// [d/2, d].
func (p *Pipeline) retryPolicy() backoff.BackOff {
	bound := min(retryBackoffMin, p.cfg.RetryBackoffMax)
	return &backoff.ExponentialBackOff{
		InitialInterval: bound * 3 / 4, RandomizationFactor: 1.0 / 3, Multiplier: 2, MaxInterval: p.cfg.RetryBackoffMax * 3 / 4,
	}
}

// errNotDurable stands for a failed attempt that carried no error of its
// own (never expected: a write that leaves records behind fails).
var errNotDurable = errors.New("records not acknowledged by Kafka")

// write makes the batch durable, retrying what Kafka refused with capped
// backoff (cenkalti/backoff, retryPolicy) until it succeeds or ctx ends,
// and ACKs each push as soon as its record is acknowledged. ctx only ends
// the waits between attempts: an attempt runs to its end. A context
// timeout does not prove a record was not written; it is simply not ACKed,
// and a redelivery becomes a duplicate that downstream stages drop by
// event_id. On error it returns the deliveries still not durable.
func (p *Pipeline) write(ctx context.Context, batch []delivery) ([]delivery, error) {
	p.encode(batch)
	pending := batch
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		failed, err := p.attempt(ctx, pending)
		if len(failed) == 0 {
			p.kafkaOK.Store(true)
			return struct{}{}, nil
		}
		p.kafkaOK.Store(false)
		p.m.WriteErrors.Inc()
		pending = failed
		if err == nil {
			err = errNotDurable
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(p.retryPolicy()),
		backoff.WithMaxElapsedTime(0), // Kafka down is waited for, never given up on
		backoff.WithNotify(func(err error, next time.Duration) {
			p.log.Error().Err(err).Int("records", len(pending)).Dur("retry_in", next).Msg("Kafka write failed; not ACKing, retrying")
		}),
	)
	if err != nil {
		return pending, fmt.Errorf("writing to Kafka: %w", err)
	}
	return nil, nil
}

// attempt is one try at making pending durable: it ACKs what Kafka
// acknowledged and returns the rest with the write's error.
//
// A record too large for its topic is a bad record, not an outage: it is
// quarantined in the invalid topic (or a reference to it, see shrink) and
// its push ACKed, so it can neither block the partition nor hold a prefetch
// slot. Records over the writer's own limit are caught before writing; the
// broker's refusal fails the whole batch of a partition, so its records
// are then written one by one, in order, to find the culprit.
func (p *Pipeline) attempt(ctx context.Context, pending []delivery) ([]delivery, error) {
	for i := range pending {
		p.fitWriter(&pending[i])
	}
	err := p.writeMessages(ctx, pending)

	var failed []delivery
	transient := 0
	var werrs kafka.WriteErrors
	switch {
	case err == nil:
		p.done(pending)
	case errors.As(err, &werrs) && len(werrs) == len(pending):
		ok := make([]delivery, 0, len(pending))
		for i, d := range pending {
			switch {
			case werrs[i] == nil:
				ok = append(ok, d)
			case isTooLarge(werrs[i]):
				failed = append(failed, d)
			default:
				failed = append(failed, d)
				transient++
			}
		}
		p.done(ok)
	case isTooLarge(err):
		failed = pending
	default:
		failed, transient = pending, len(pending)
	}
	if len(failed) > 0 && transient == 0 {
		// Only size refusals: find and quarantine the culprits now. With
		// other failures in the same write, retry everything first, so
		// no record overtakes an earlier one of its partition.
		failed = p.isolate(ctx, failed)
	}
	return failed, err
}

// writeMessages is one synchronous write of the deliveries' records. ctx's
// cancellation does not reach it: a write cut short would leave records
// in doubt.
func (p *Pipeline) writeMessages(ctx context.Context, ds []delivery) error {
	msgs := p.msgs[:0]
	for _, d := range ds {
		msgs = append(msgs, d.msg)
	}
	start := time.Now()
	err := p.w.WriteMessages(context.WithoutCancel(ctx), msgs...)
	p.m.WriteTime.Observe(time.Since(start).Seconds())
	clear(msgs) // the writer copied them; drop the references to the records
	p.msgs = msgs
	return err
}

// isolate writes deliveries one at a time, in order, shrinking each that
// is refused for its size until it fits. It stops at the first other
// failure and returns the deliveries from there on, still not durable.
func (p *Pipeline) isolate(ctx context.Context, ds []delivery) []delivery {
	for i := range ds {
		for {
			err := p.writeMessages(ctx, ds[i:i+1])
			if err == nil {
				p.done(ds[i : i+1])
				break
			}
			if !isTooLarge(err) || !p.shrink(&ds[i], err) {
				return ds[i:]
			}
		}
	}
	return nil
}

// done ACKs the pushes whose records are durable, in batch order, and the
// over-long pushes whose dead letters are.
func (p *Pipeline) done(ds []delivery) {
	now := time.Now()
	for _, d := range ds {
		p.m.Written.WithLabelValues(d.msg.Topic).Inc()
		if d.dl != nil {
			p.m.Quarantined.WithLabelValues(d.dl.Reason).Inc()
		}
		switch {
		case d.push != nil:
			d.push.Ack()
			p.m.Acks.Inc()
			p.m.InFlight.Dec()
			p.m.AckLatency.Observe(now.Sub(d.received).Seconds())
		case d.inv != nil && d.inv.CanAck():
			d.inv.Ack()
			p.m.Acks.Inc()
		}
	}
}
