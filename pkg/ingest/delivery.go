package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// delivery is a push waiting for its record to be durable, or an invalid
// line waiting to be quarantined (push nil, msg set at once). A push's
// record is built by the writer (encode), off the connection's reading
// goroutine. dl is set once the delivery is a dead letter (an invalid
// line, or a push whose record could not be encoded or is too large for
// its topic); level says how far it was shrunk to fit.
type delivery struct {
	push     *snoti.Push
	inv      *snoti.Invalid // by reference: a batch holds up to BatchSize deliveries, rarely an invalid line
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

// ReferencePrefixBytes is how much of a line a reference (a dead letter for
// a line too large even for the invalid topic) keeps: enough to
// identify the push (cmd, ids, event type, device come first).
const ReferencePrefixBytes = 4 << 10

// errTooLargeForWriter marks a record over the writer's BatchBytes:
// kafka-go would refuse the whole write for it.
var errTooLargeForWriter = errors.New("larger than the writer's limit (the topics' max.message.bytes)")

// quarantine turns a push's delivery into a dead letter on the invalid
// topic holding its whole line; the push is ACKed once that is durable.
func (p *Pipeline) quarantine(d *delivery, reason, detail string) {
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
func (p *Pipeline) shrink(d *delivery, cause error) bool {
	size := recordBytes(d.msg)
	switch d.level {
	case levelRecord:
		p.quarantine(d, "record_too_large", fmt.Sprintf("record of about %d bytes refused for topic %s: %v", size, d.msg.Topic, cause))
	case levelQuarantined:
		line := d.dl.Value
		sum := sha256.Sum256(line)
		keep := min(len(line), ReferencePrefixBytes)
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

func (p *Pipeline) encodeDeadLetter(d *delivery) {
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

// fitWriter shrinks a record kafka-go would refuse for its size (it would
// fail the whole write, not just this record) until it fits.
func (p *Pipeline) fitWriter(d *delivery) {
	for recordBytes(d.msg) > p.cfg.MaxRecordBytes {
		if !p.shrink(d, errTooLargeForWriter) {
			return
		}
	}
}
