package consume

import (
	"context"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
)

// Deduplicating drops messages whose event_id (header, per topic) is
// finished: one of the last window event ids sent or dead-lettered by the
// next handler, or one earlier in the same batch (a retried ingest write
// can put one delivery at two consecutive offsets). A dropped message gets
// ErrDuplicate and never reaches the next handler; a later copy in a batch
// is done at once, since the commit cannot pass the first copy before that
// one is done. Messages without an event_id are all handed on. A window
// of 0 or less disables it. It is safe for concurrent use.
func Deduplicating(window int) (Middleware, error) {
	if window <= 0 {
		return func(next Handler) Handler { return next }, nil
	}
	seen, err := lru.New[string, struct{}](window)
	if err != nil {
		return nil, fmt.Errorf("consume: dedupe window: %w", err)
	}
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
			errs := make([]error, len(msgs))
			inBatch := make(map[string]struct{}, len(msgs))
			keys := make([]string, 0, len(msgs))
			idx := make([]int, 0, len(msgs))
			for i, m := range msgs {
				key := dedupeKey(m)
				if key != "" {
					if _, again := inBatch[key]; again || seen.Contains(key) {
						errs[i] = ErrDuplicate
						continue
					}
					inBatch[key] = struct{}{}
				}
				idx = append(idx, i)
				keys = append(keys, key)
			}
			if len(idx) == 0 {
				return errs
			}
			sub := msgs
			if len(idx) < len(msgs) {
				sub = make([]kafka.Message, len(idx))
				for j, i := range idx {
					sub[j] = msgs[i]
				}
			}
			for j, err := range call(ctx, next, sub) {
				errs[idx[j]] = err
				if keys[j] != "" && isDone(err) {
					seen.Add(keys[j], struct{}{})
				}
			}
			return errs
		})
	}, nil
}

func dedupeKey(m kafka.Message) string {
	id := records.Header(m, "event_id")
	if id == "" {
		return ""
	}
	return m.Topic + "/" + id
}
