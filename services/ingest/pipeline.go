package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"strconv"
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
// goroutine. dl is set once the delivery is a dead letter (an invalid
// line, or a push whose record could not be encoded or is too large for
// its topic); level says how far it was shrunk to fit.
type delivery struct {
	push     *snoti.Push
	inv      snoti.Invalid
	msg      kafka.Message
	received time.Time
	encoded  bool
	dl       *records.DeadLetter
	level    int
}

// Levels of a delivery: its record as built, a dead letter holding the
// whole line, a dead letter holding a reference to the line.
const (
	levelRecord = iota
	levelQuarantined
	levelReference
)

// referencePrefixBytes is how much of a line a reference keeps: enough to
// identify the push (cmd, ids, event type, device come first).
const referencePrefixBytes = 4 << 10

// defaultMaxRecordBytes is kafka-go's per-record limit when the topics'
// max.message.bytes is not known (the writer's BatchBytes).
const defaultMaxRecordBytes = 8 << 20

// errTooLargeForWriter marks a record over the writer's BatchBytes:
// kafka-go would refuse the whole write for it.
var errTooLargeForWriter = errors.New("larger than the writer's limit (the topics' max.message.bytes)")

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

	// maxRecordBytes is the largest record the writer accepts (its
	// BatchBytes); bigger ones are quarantined before writing.
	maxRecordBytes int
}

func newPipeline(cfg Config, w messageWriter, codec *records.Codec, log zerolog.Logger, m *metrics) *pipeline {
	return &pipeline{
		cfg: cfg, w: w, codec: codec, log: log, m: m,
		queue:          make(chan delivery, cfg.Prefetch*cfg.Connections+1024),
		maxRecordBytes: defaultMaxRecordBytes,
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
// topic with its bytes and the reason; an over-long push whose delivery id
// could be read is ACKed once its dead letter is durable. When many arrive
// while Kafka is down this blocks the reading goroutine, which is the
// backpressure we want.
func (p *pipeline) HandleInvalid(inv snoti.Invalid) {
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
	p.queue <- delivery{inv: inv, msg: msg, received: time.Now(), encoded: true, dl: dl, level: levelQuarantined}
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
		msg, err := p.codec.Message(p.cfg.TopicEvents, recordKey(d.push), toEvent(d.push, p.cfg.Protocol, d.received))
		d.msg, d.encoded = msg, true
		if err != nil {
			p.quarantine(d, "encode_failed", err.Error())
		}
	}
}

// quarantine turns a push's delivery into a dead letter on the invalid
// topic holding its whole line; the push is ACKed once that is durable.
func (p *pipeline) quarantine(d *delivery, reason, detail string) {
	id := d.push.EventID()
	d.dl = &records.DeadLetter{Stage: "ingest", Reason: reason, Error: detail, Attempts: 1,
		FailedAt: time.Now().UTC(), EventID: &id, SourcePartition: -1, SourceOffset: -1, Value: d.push.Raw,
		Headers: map[string]string{"product_key": d.push.ProductKey, "did": d.push.DID, "event_type": d.push.EventType, "delivery_id": string(d.push.DeliveryID)}}
	d.level = levelQuarantined
	p.encodeDeadLetter(d)
}

// shrink makes a delivery whose record is too large smaller, one level at
// a time: a push's record becomes a dead letter with the whole line; a
// dead letter becomes a reference (the line's start, its size and
// SHA-256). false when it is a reference already.
func (p *pipeline) shrink(d *delivery, cause error) bool {
	size := recordBytes(d.msg)
	switch d.level {
	case levelRecord:
		p.quarantine(d, "record_too_large", fmt.Sprintf("record of about %d bytes refused for topic %s: %v", size, d.msg.Topic, cause))
	case levelQuarantined:
		line := d.dl.Value
		sum := sha256.Sum256(line)
		keep := min(len(line), referencePrefixBytes)
		dl := *d.dl
		dl.Error = fmt.Sprintf("%s; the line (%d bytes, sha256 %x) is too large even for %s (%v): only its first %d bytes are kept",
			dl.Error, len(line), sum, d.msg.Topic, cause, keep)
		dl.Value = line[:keep]
		dl.Headers = maps.Clone(dl.Headers)
		if dl.Headers == nil {
			dl.Headers = map[string]string{}
		}
		dl.Headers["line_sha256"] = hex.EncodeToString(sum[:])
		dl.Headers["kept_bytes"] = strconv.Itoa(keep)
		if _, ok := dl.Headers["line_bytes"]; !ok {
			dl.Headers["line_bytes"] = strconv.Itoa(len(line))
		}
		d.dl, d.level = &dl, levelReference
		p.encodeDeadLetter(d)
	default:
		return false
	}
	kept := "whole line"
	if d.level == levelReference {
		kept = "reference"
	}
	p.log.Warn().Int("record_bytes", size).Str("reason", d.dl.Reason).Str("kept", kept).Err(cause).
		Msg("record too large for its topic: quarantined in the invalid topic instead, then ACKed")
	return true
}

func (p *pipeline) encodeDeadLetter(d *delivery) {
	msg, err := p.codec.Message(p.cfg.TopicInvalid, nil, d.dl)
	if err != nil { // a dead letter always encodes
		p.log.Error().Err(err).Msg("encoding a dead letter")
		return
	}
	d.msg = msg
}

// recordBytes bounds from above the size kafka-go and the broker count for
// m (kafka-go's Message.totalSize plus slack).
func recordBytes(m kafka.Message) int {
	n := 64 + len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}

// isTooLarge reports a write refused for its size: by kafka-go before
// sending (MessageTooLargeError) or by the broker (the record or its batch
// over the topic's max.message.bytes).
func isTooLarge(err error) bool {
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) && len(werrs) == 1 {
		err = werrs[0]
	}
	return errors.Is(err, kafka.MessageSizeTooLarge) || errors.Is(err, kafka.RecordListTooLarge)
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
//
// A record too large for its topic is a bad record, not an outage: it is
// quarantined in the invalid topic (or a reference to it, see shrink) and
// its push ACKed, so it can neither block the partition nor hold a prefetch
// slot. Records over the writer's own limit are caught before writing; the
// broker's refusal fails the whole batch of a partition, so its records
// are then written one by one, in order, to find the culprit.
func (p *pipeline) write(ctx context.Context, batch []delivery) ([]delivery, error) {
	p.encode(batch)
	pending := batch
	for attempt := 0; ; attempt++ {
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

// fitWriter shrinks a record kafka-go would refuse for its size (it would
// fail the whole write, not just this record) until it fits.
func (p *pipeline) fitWriter(d *delivery) {
	for recordBytes(d.msg) > p.maxRecordBytes {
		if !p.shrink(d, errTooLargeForWriter) {
			return
		}
	}
}

// writeMessages is one synchronous write of the deliveries' records.
func (p *pipeline) writeMessages(ctx context.Context, ds []delivery) error {
	msgs := make([]kafka.Message, len(ds))
	for i, d := range ds {
		msgs[i] = d.msg
	}
	start := time.Now()
	err := p.w.WriteMessages(context.WithoutCancel(ctx), msgs...)
	p.m.writeTime.Observe(time.Since(start).Seconds())
	return err
}

// isolate writes deliveries one at a time, in order, shrinking each that
// is refused for its size until it fits. It stops at the first other
// failure and returns the deliveries from there on, still not durable.
func (p *pipeline) isolate(ctx context.Context, ds []delivery) []delivery {
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
func (p *pipeline) done(ds []delivery) {
	now := time.Now()
	for _, d := range ds {
		p.m.written.WithLabelValues(d.msg.Topic).Inc()
		if d.dl != nil {
			p.m.quarantined.WithLabelValues(d.dl.Reason).Inc()
		}
		switch {
		case d.push != nil:
			d.push.Ack()
			p.m.acks.Inc()
			p.m.inFlight.Dec()
			p.m.ackLatency.Observe(now.Sub(d.received).Seconds())
		case d.inv.CanAck():
			d.inv.Ack()
			p.m.acks.Inc()
		}
	}
}
