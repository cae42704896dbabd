package snoti

import (
	"time"

	"github.com/cenkalti/backoff/v5"
)

// reconnectBackOff is the reconnect policy (cenkalti/backoff, as every
// retry of the bridge): delays doubling from lo up to hi, each drawn at
// random from its upper half ("equal jitter"), so the delays grow visibly
// while clients that lost the same server spread out. The library draws
// within ±RandomizationFactor of its interval: an interval of ¾·d with a
// factor of ⅓ is exactly [d/2, d].
func reconnectBackOff(lo, hi time.Duration) *backoff.ExponentialBackOff {
	const spread = 1.0 / 3
	return &backoff.ExponentialBackOff{
		InitialInterval:     time.Duration(float64(lo) * 0.75),
		MaxInterval:         time.Duration(float64(hi) * 0.75),
		RandomizationFactor: spread,
		Multiplier:          2,
	}
}
