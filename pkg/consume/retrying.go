package consume

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// RetryNotify is told each failed round of Retrying: the first error, how
// many messages are to be tried again, the attempt that failed (from 1)
// and the delay before the next.
type RetryNotify func(err error, pending, attempt int, next time.Duration)

type attemptKey struct{}

// attemptOf is the attempt Retrying is making (from 1), as DeadLettering
// records it in a dead letter; 1 outside Retrying.
func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}

// Retrying holds a batch while messages fail retryably: it hands the
// failed ones (and only those, in order) to the next handler again, with
// backoff b (Retry: at most b.Max apart, never before a sink's
// Retry-After), until none fails retryably or ctx ends. Nothing new is
// fetched meanwhile, so lag grows in Kafka while the sink is down. A
// message done (nil, ErrDuplicate, *DeadLetteredError) or failed
// permanently is not tried again; a fatal error stops at once. The error
// returned for each message is its last one. notify may be nil.
func Retrying(b Backoff, notify RetryNotify) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
			errs := make([]error, len(msgs))
			pending := make([]int, len(msgs))
			for i := range pending {
				pending[i] = i
			}
			sub := make([]kafka.Message, 0, len(msgs))
			_ = Retry(ctx, b, func(attempt int) error {
				sub = sub[:0]
				for _, i := range pending {
					sub = append(sub, msgs[i])
				}
				got := call(context.WithValue(ctx, attemptKey{}, attempt), next, sub)
				var retry []int
				var wait time.Duration
				var first, stop error
				for j, i := range pending {
					err := got[j]
					errs[i] = err
					if isFatal(err) && stop == nil {
						stop = err
					}
					if !retryable(err) {
						continue
					}
					if ra, ok := sinkerr.Retryable(err); ok && ra > wait {
						wait = ra
					}
					if first == nil {
						first = err
					}
					retry = append(retry, i)
				}
				pending = retry
				if stop != nil {
					return sinkerr.NewPermanent(stop)
				}
				if len(retry) == 0 {
					return nil
				}
				return sinkerr.NewRetryable(first, wait)
			}, func(err error, attempt int, next time.Duration) {
				if notify != nil {
					notify(err, len(pending), attempt, next)
				}
			})
			return errs
		})
	}
}
