package ingest

import (
	"testing"
	"time"
)

// Each delay before a write is retried lies in [d/2, d], d doubling from
// 100 ms, and never exceeds RetryBackoffMax (INGEST_RETRY_BACKOFF_MAX is
// the cap of the delay, not of an interval jittered around it).
func TestRetryPolicyStaysUnderTheCap(t *testing.T) {
	for _, max := range []time.Duration{30 * time.Millisecond, 500 * time.Millisecond, 5 * time.Second} {
		p := &Pipeline{cfg: Config{RetryBackoffMax: max}}
		for range 200 {
			b := p.retryPolicy()
			b.Reset()
			bound := min(retryBackoffMin, max)
			for attempt := range 12 {
				d := b.NextBackOff()
				if d < bound/2 || d > bound+time.Nanosecond {
					t.Fatalf("cap %s, attempt %d: delay %s outside [%s, %s]", max, attempt, d, bound/2, bound)
				}
				bound = min(2*bound, max)
			}
		}
	}
}
