package consume

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// KeyedConfig configures a Keyed handler.
type KeyedConfig struct {
	// Concurrency is how many messages are handled at once, each of a
	// different key (default 8).
	Concurrency int
	// Backoff is the wait between the attempts of a key's failing message
	// (zero fields: 200ms, 3s, 5m as in ProcessorConfig).
	Backoff Backoff
	// DedupeWindow is how many finished event ids are remembered (default
	// 100000; negative disables), as Deduplicating.
	DedupeWindow int
	Log          zerolog.Logger
}

// Keyed is an AsyncHandler that handles one message at a time with fn,
// concurrently across keys and in order within a key, without batch
// barriers: a slow or failing key holds back only its own later messages,
// while the other keys go on with whatever the runner fetches next. Each
// message is reported on its own (Done, or Reject for a permanent error),
// so the runner commits the contiguous done prefix (Tracker).
//
// A retryable failure is retried for the same message, with backoff and
// never before its Retry-After, before anything later of its key; a
// Retry-After also holds every key until it has passed (the sink asked the
// client to wait). Waiting keys hold no worker. Duplicates by event_id (the
// event_id header, per topic) are dropped as by Deduplicating: one of the
// last DedupeWindow finished, or one still pending. When in is closed the
// handler starts nothing new, lets the attempts under way finish and
// returns; what is not done stays uncommitted.
type Keyed struct {
	cfg  KeyedConfig
	fn   func(ctx context.Context, m kafka.Message) error
	seen *lru.Cache[string, struct{}] // nil: dedupe disabled
}

// NewKeyed validates cfg and returns the handler.
func NewKeyed(cfg KeyedConfig, fn func(ctx context.Context, m kafka.Message) error) (*Keyed, error) {
	if fn == nil {
		return nil, fmt.Errorf("consume: Keyed needs a function")
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 8
	}
	pc := ProcessorConfig{Stage: "-", DLQTopic: "-", MinBackoff: cfg.Backoff.Min, MaxBackoff: cfg.Backoff.Max, MaxWait: cfg.Backoff.MaxWait, DedupeWindow: cfg.DedupeWindow}
	_ = pc.defaults()
	cfg.Backoff, cfg.DedupeWindow = pc.backoff(), pc.DedupeWindow
	k := &Keyed{cfg: cfg, fn: fn}
	if cfg.DedupeWindow > 0 {
		seen, err := lru.New[string, struct{}](cfg.DedupeWindow)
		if err != nil {
			return nil, fmt.Errorf("consume: dedupe window: %w", err)
		}
		k.seen = seen
	}
	return k, nil
}

// keyedAcks is what the AsyncRunner's acks offer beyond Acks, for the
// metrics and the dead letter's attempt count.
type keyedAcks interface {
	duplicate(m kafka.Message)
	retried(n int)
	reject(ctx context.Context, m kafka.Message, err error, attempts int) error
}

// lane is one key's pending messages, oldest first. A lane is in exactly
// one state: in the ready queue, with a worker, waiting for a retry, or
// gone (no messages).
type lane struct {
	queue   []kafka.Message
	bo      *sinkBackOff // the head's retry state; nil before its first failure
	attempt int          // attempts made on the head
	timer   *time.Timer
}

type keyedRun struct {
	k    *Keyed
	ctx  context.Context
	acks Acks
	ext  keyedAcks // nil for other Acks

	mu       sync.Mutex
	cond     *sync.Cond
	lanes    map[string]*lane
	ready    []*lane
	pending  map[string]struct{} // dedupe keys queued or being handled
	stopping bool
	fatal    chan error // first fatal error

	notBefore atomic.Int64 // unix nanos before which nothing is sent (Retry-After)
	stop      chan struct{}
	quiet     throttle
}

// Run implements AsyncHandler.
func (k *Keyed) Run(ctx context.Context, in <-chan kafka.Message, acks Acks) error {
	r := &keyedRun{
		k: k, ctx: ctx, acks: acks, lanes: map[string]*lane{}, pending: map[string]struct{}{},
		fatal: make(chan error, 1), stop: make(chan struct{}), quiet: throttle{period: 30 * time.Second},
	}
	r.ext, _ = acks.(keyedAcks)
	r.cond = sync.NewCond(&r.mu)
	var wg sync.WaitGroup
	for range k.cfg.Concurrency {
		wg.Add(1)
		go func() { defer wg.Done(); r.work() }()
	}
	var err error
loop:
	for {
		select {
		case m, ok := <-in:
			if !ok {
				break loop
			}
			r.add(m)
		case err = <-r.fatal:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	r.mu.Lock()
	r.stopping = true
	for _, l := range r.lanes {
		if l.timer != nil {
			l.timer.Stop()
		}
	}
	r.mu.Unlock()
	close(r.stop)
	r.cond.Broadcast()
	wg.Wait()
	if err == nil {
		select {
		case err = <-r.fatal:
		default:
		}
	}
	return err
}

// add queues m on its key's lane, or finishes it as a duplicate.
func (r *keyedRun) add(m kafka.Message) {
	dk := ""
	if r.k.seen != nil {
		dk = dedupeKey(m)
	}
	r.mu.Lock()
	if dk != "" {
		_, queued := r.pending[dk]
		if queued || r.k.seen.Contains(dk) {
			r.mu.Unlock()
			// Done at once: a copy at a later offset of the same partition
			// cannot be committed before the first copy is done.
			if r.ext != nil {
				r.ext.duplicate(m)
			} else {
				r.acks.Done(m)
			}
			return
		}
		r.pending[dk] = struct{}{}
	}
	key := string(m.Key)
	if l := r.lanes[key]; l != nil {
		l.queue = append(l.queue, m)
		r.mu.Unlock()
		return
	}
	l := &lane{queue: []kafka.Message{m}}
	r.lanes[key] = l
	r.ready = append(r.ready, l)
	r.mu.Unlock()
	r.cond.Signal()
}

// next takes a ready lane and its head, or nil once stopping.
func (r *keyedRun) next() (*lane, kafka.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.ready) == 0 && !r.stopping {
		r.cond.Wait()
	}
	if r.stopping {
		return nil, kafka.Message{}
	}
	l := r.ready[0]
	r.ready[0] = nil
	r.ready = r.ready[1:]
	return l, l.queue[0]
}

func (r *keyedRun) work() {
	for {
		l, m := r.next()
		if l == nil {
			return
		}
		if !r.waitRetryAfter() {
			return
		}
		l.attempt++ // only the worker holding a lane touches its retry state
		err := r.k.fn(r.ctx, m)
		switch {
		case err == nil:
			r.acks.Done(m)
			r.finished(l, m)
		case sinkerr.IsPermanent(err):
			var rerr error
			if r.ext != nil {
				rerr = r.ext.reject(r.ctx, m, err, l.attempt)
			} else {
				rerr = r.acks.Reject(r.ctx, m, err)
			}
			if rerr != nil {
				if isFatal(rerr) {
					select {
					case r.fatal <- rerr:
					default:
					}
				}
				return // ctx ended (or fatal): m stays not done
			}
			r.finished(l, m)
		default:
			if r.ctx.Err() != nil {
				return // shutting down: m stays not done
			}
			r.retryLater(l, err)
		}
	}
}

// finished drops the head of l (sent or dead-lettered: done) and requeues
// l if it holds more.
func (r *keyedRun) finished(l *lane, m kafka.Message) {
	dk := ""
	if r.k.seen != nil {
		dk = dedupeKey(m)
	}
	if dk != "" {
		r.k.seen.Add(dk, struct{}{})
	}
	r.mu.Lock()
	if dk != "" {
		delete(r.pending, dk)
	}
	l.queue[0] = kafka.Message{}
	l.queue = l.queue[1:]
	l.bo, l.attempt = nil, 0
	if len(l.queue) == 0 {
		delete(r.lanes, string(m.Key))
		r.mu.Unlock()
		return
	}
	r.ready = append(r.ready, l)
	r.mu.Unlock()
	r.cond.Signal()
}

// retryLater puts l back in the ready queue after its backoff (the sink's
// Retry-After at least, which also holds the other keys).
func (r *keyedRun) retryLater(l *lane, err error) {
	if l.bo == nil {
		l.bo = r.k.cfg.Backoff.policy()
	}
	if ra, ok := sinkerr.Retryable(err); ok && ra > 0 {
		l.bo.retryAfter = ra
		until := time.Now().Add(min(ra, r.k.cfg.Backoff.MaxWait)).UnixNano()
		for {
			cur := r.notBefore.Load()
			if cur >= until || r.notBefore.CompareAndSwap(cur, until) {
				break
			}
		}
	}
	d := l.bo.NextBackOff()
	if r.ext != nil {
		r.ext.retried(1)
	}
	r.quiet.level(r.k.cfg.Log).Err(err).Int("attempt", l.attempt).Dur("retry_in", d).
		Msg("sink failed, holding the key's messages and retrying (other keys go on)")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return
	}
	l.timer = time.AfterFunc(d, func() {
		r.mu.Lock()
		if r.stopping {
			r.mu.Unlock()
			return
		}
		l.timer = nil
		r.ready = append(r.ready, l)
		r.mu.Unlock()
		r.cond.Signal()
	})
}

// waitRetryAfter waits until a sink's Retry-After has passed; false when
// stopping meanwhile.
func (r *keyedRun) waitRetryAfter() bool {
	wait := time.Until(time.Unix(0, r.notBefore.Load()))
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stop:
		return false
	}
}
