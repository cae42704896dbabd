package consume

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// DeadLetterer writes records the sink rejected to a stage's dead-letter
// topic, as records.DeadLetter with the reason, the error and the
// original record.
type DeadLetterer struct {
	Stage   string        // DeadLetter.stage
	Topic   string        // the dead-letter topic
	Writer  MessageWriter // acks=all
	Codec   *records.Codec
	Backoff Backoff // between write attempts
	Log     zerolog.Logger
}

// Write writes m to the dead-letter topic with cause's reason, retrying
// the write (a Kafka outage is not the record's fault) until it succeeds
// or ctx ends (ctx's error). attempts is how often the sink was tried. An
// error encoding the dead letter is fatal: no retry fixes it.
func (d *DeadLetterer) Write(ctx context.Context, m kafka.Message, cause error, attempts int) error {
	reason := ReasonOf(cause)
	headers := make(map[string]string, len(m.Headers))
	for _, h := range m.Headers {
		headers[h.Key] = string(h.Value)
	}
	dl := &records.DeadLetter{
		Stage:           d.Stage,
		Reason:          reason,
		Error:           cause.Error(),
		Attempts:        int32(attempts),
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
	out, err := d.Codec.Message(d.Topic, m.Key, dl)
	if err != nil {
		return fatal(fmt.Errorf("encoding dead letter: %w", err))
	}
	out.Topic = ""
	// A write error is never permanent here: Retry gives up only on ctx.
	if err := Retry(ctx, d.Backoff, func(int) error {
		if err := d.Writer.WriteMessages(ctx, out); err != nil {
			return sinkerr.NewRetryable(err, 0)
		}
		return nil
	}, func(err error, _ int, next time.Duration) {
		d.Log.Error().Err(err).Str("topic", d.Topic).Dur("retry_in", next).Msg("writing dead letter failed")
	}); err != nil {
		return err
	}
	d.Log.Warn().Str("reason", reason).Err(cause).Str("topic", m.Topic).Int("partition", m.Partition).
		Int64("offset", m.Offset).Str("key", string(m.Key)).Msg("dead-lettered")
	return nil
}

// DeadLettering writes the messages the next handler fails permanently
// (see Reject) to d's topic and gives them a *DeadLetteredError: they are
// done, and the stream moves on. Retryable failures pass through
// untouched. A dead letter that cannot be written before ctx ends leaves
// its message failed with ctx's error.
func DeadLettering(d *DeadLetterer) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
			errs := call(ctx, next, msgs)
			for i, err := range errs {
				if err == nil || isFatal(err) || !sinkerr.IsPermanent(err) {
					continue
				}
				if werr := d.Write(ctx, msgs[i], err, attemptOf(ctx)); werr != nil {
					errs[i] = werr
					continue
				}
				errs[i] = &DeadLetteredError{Err: err}
			}
			return errs
		})
	}
}
