package consume

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// Backoff is the retry policy of every consuming stage: exponential from
// Min, doubling, the interval capped at Max, each delay drawn within ±50 %
// of the interval (cenkalti/backoff), and never shorter than a sink's
// Retry-After, itself capped at MaxWait. Keeping Max short is what brings
// a sink that is back into use within seconds: a retry is the probe.
type Backoff struct {
	Min, Max time.Duration
	// MaxWait caps a sink's Retry-After (0: Retry-After is ignored).
	MaxWait time.Duration
}

// sinkBackOff is a backoff.BackOff that stretches the next delay to the
// Retry-After the last failure carried.
type sinkBackOff struct {
	exp        backoff.ExponentialBackOff
	maxWait    time.Duration
	retryAfter time.Duration
}

func (b *sinkBackOff) Reset() { b.exp.Reset() }

func (b *sinkBackOff) NextBackOff() time.Duration {
	d := b.exp.NextBackOff()
	if b.retryAfter > d {
		d = min(b.retryAfter, b.maxWait)
	}
	b.retryAfter = 0
	return d
}

func (b Backoff) policy() *sinkBackOff {
	return &sinkBackOff{
		exp: backoff.ExponentialBackOff{
			InitialInterval: b.Min, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: max(b.Max, b.Min),
		},
		maxWait: b.MaxWait,
	}
}

// Retry calls op (with the attempt number, from 1) until it returns nil, a
// permanent sinkerr error (returned as is), or ctx ends (ctx's error is
// returned). notify, if not nil, is told each failure and the delay before
// the next attempt. There is no limit on attempts: a sink that is down is
// waited for, never given up on.
func Retry(ctx context.Context, b Backoff, op func(attempt int) error, notify func(err error, attempt int, next time.Duration)) error {
	bo := b.policy()
	attempt := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		err := op(attempt)
		if err == nil {
			return struct{}{}, nil
		}
		if sinkerr.IsPermanent(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		if ra, ok := sinkerr.Retryable(err); ok {
			bo.retryAfter = ra
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(bo),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, next time.Duration) {
			if notify != nil {
				notify(err, attempt, next)
			}
		}),
	)
	return err
}
