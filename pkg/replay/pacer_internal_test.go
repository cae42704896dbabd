package replay

import (
	"context"
	"testing"
	"time"
)

// TestPacer checks the lower bound only: 30 records at 100/s cannot all
// go in less than 0.2 s (the first batch goes at once).
func TestPacer(t *testing.T) {
	p := pacer{rate: 100}
	start := time.Now()
	for i := 0; i < 3; i++ {
		if err := p.wait(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("30 records at 100/s took %v, want ≥ 200ms", d)
	}
	slow := pacer{rate: 1}
	if err := slow.wait(context.Background(), 10); err != nil { // the next may go in 10 s
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := slow.wait(ctx, 1); err == nil {
		t.Error("wait with a cancelled context returned nil")
	}
	if err := (&pacer{}).wait(ctx, 5); err != nil {
		t.Errorf("unlimited pacer: %v", err)
	}
}
