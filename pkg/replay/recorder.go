package replay

import (
	"context"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
)

type msgID struct {
	topic  string
	part   int
	offset int64
}

// recorder remembers the last result the sink gave for each message, so
// the engine can tell sent from dead-lettered from duplicate (never
// handed to the sink) after Process.
type recorder struct {
	h    consume.Handler
	mu   sync.Mutex
	last map[msgID]error
}

func (r *recorder) Handle(ctx context.Context, msgs []kafka.Message) []error {
	errs := r.h.Handle(ctx, msgs)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range msgs {
		if i < len(errs) {
			r.last[msgID{m.Topic, m.Partition, m.Offset}] = errs[i]
		}
	}
	return errs
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.last)
}

func (r *recorder) result(m kafka.Message) (error, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	err, ok := r.last[msgID{m.Topic, m.Partition, m.Offset}]
	return err, ok
}
