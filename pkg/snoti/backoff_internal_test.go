package snoti

import (
	"testing"
	"time"
)

// TestReconnectBackOff: delay k lies in [d/2, d] for d = min(min·2^k,
// max), and Reset starts again from min.
func TestReconnectBackOff(t *testing.T) {
	lo, hi := 10*time.Millisecond, 80*time.Millisecond
	b := reconnectBackOff(lo, hi)
	b.Reset()
	check := func(round int) {
		t.Helper()
		d := min(lo<<min(round, 20), hi)
		if got := b.NextBackOff(); got < d/2 || got > d {
			t.Fatalf("round %d: %s, want within [%s, %s]", round, got, d/2, d)
		}
	}
	for round := 0; round < 200; round++ {
		check(round)
	}
	b.Reset()
	for round := 0; round < 3; round++ {
		check(round)
	}
	// Seconds, as configured by default.
	b = reconnectBackOff(time.Second, time.Minute)
	b.Reset()
	for round := 0; round < 50; round++ {
		d := min(time.Second<<min(round, 20), time.Minute)
		if got := b.NextBackOff(); got < d/2 || got > d {
			t.Fatalf("1s..60s round %d: %s, want within [%s, %s]", round, got, d/2, d)
		}
	}
}
