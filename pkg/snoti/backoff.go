package snoti

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: doubling from min up to max, each
// drawn at random from its upper half ("equal jitter"), so the delays grow
// visibly while clients that lost the same server spread out.
type backoff struct {
	min, max time.Duration
	attempt  int
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.attempt++
	half := d / 2
	return half + rand.N(d-half+1)
}

func (b *backoff) reset() { b.attempt = 0 }
