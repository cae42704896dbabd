package sinksim

import (
	"fmt"
	"testing"
)

func TestRingKeepsTheLastMaxOldestFirst(t *testing.T) {
	for _, tt := range []struct {
		max, pushed int
		want        string
	}{
		{max: 3, pushed: 0, want: "[]"},
		{max: 3, pushed: 2, want: "[1 2]"},
		{max: 3, pushed: 3, want: "[1 2 3]"},
		{max: 3, pushed: 4, want: "[2 3 4]"},
		{max: 3, pushed: 7, want: "[5 6 7]"},
		{max: 1, pushed: 5, want: "[5]"},
		{max: 0, pushed: 5, want: "[1 2 3 4 5]"}, // unbounded
		{max: 100, pushed: 250, want: fmt.Sprint(seq(151, 250))},
	} {
		r := newRing[int](tt.max)
		for i := 1; i <= tt.pushed; i++ {
			r.push(i)
			if tt.max > 0 && (len(r.items) > tt.max || cap(r.items) > tt.max) {
				t.Fatalf("max %d: %d items, capacity %d after %d pushes", tt.max, len(r.items), cap(r.items), i)
			}
		}
		got := r.snapshot()
		if fmt.Sprint(got) != tt.want {
			t.Errorf("max %d, %d pushed: %v, want %s", tt.max, tt.pushed, got, tt.want)
		}
		if len(got) > 0 {
			got[0] = -1 // a copy: the ring is unchanged
			if fmt.Sprint(r.snapshot()) != tt.want {
				t.Errorf("max %d: changing the snapshot changed the ring", tt.max)
			}
		}
		r.reset()
		if n := len(r.snapshot()); n != 0 {
			t.Errorf("max %d: %d items after reset", tt.max, n)
		}
		r.push(42)
		if fmt.Sprint(r.snapshot()) != "[42]" {
			t.Errorf("max %d: after reset and a push: %v", tt.max, r.snapshot())
		}
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}
