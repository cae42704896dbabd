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
		// Several chunks (of 4 below), max a multiple of the chunk or not.
		{max: 8, pushed: 13, want: fmt.Sprint(seq(6, 13))},
		{max: 10, pushed: 10, want: fmt.Sprint(seq(1, 10))},
		{max: 10, pushed: 23, want: fmt.Sprint(seq(14, 23))},
		{max: 0, pushed: 9, want: fmt.Sprint(seq(1, 9))},
	} {
		for _, chunk := range []int{ringChunk, 4} {
			r := newRing[int](tt.max)
			r.chunk = chunk
			checkRing(t, &r, tt.max, tt.pushed, tt.want)
		}
	}
}

func checkRing(t *testing.T, r *ring[int], max, pushed int, want string) {
	t.Helper()
	for i := 1; i <= pushed; i++ {
		r.push(i)
		if max > 0 && (r.n > max || r.capacity() > max) {
			t.Fatalf("max %d, chunk %d: %d items, capacity %d after %d pushes", max, r.chunk, r.n, r.capacity(), i)
		}
	}
	got := r.snapshot()
	if fmt.Sprint(got) != want {
		t.Errorf("max %d, chunk %d, %d pushed: %v, want %s", max, r.chunk, pushed, got, want)
	}
	if len(got) > 0 {
		got[0] = -1 // a copy: the ring is unchanged
		if fmt.Sprint(r.snapshot()) != want {
			t.Errorf("max %d, chunk %d: changing the snapshot changed the ring", max, r.chunk)
		}
	}
	r.reset()
	if n := len(r.snapshot()); n != 0 {
		t.Errorf("max %d, chunk %d: %d items after reset", max, r.chunk, n)
	}
	r.push(42)
	if fmt.Sprint(r.snapshot()) != "[42]" {
		t.Errorf("max %d, chunk %d: after reset and a push: %v", max, r.chunk, r.snapshot())
	}
}

// capacity is how many items the ring has room for without allocating.
func (r *ring[T]) capacity() int {
	n := 0
	for _, c := range r.chunks {
		n += cap(c)
	}
	return n
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// BenchmarkRingFill fills a ring as the chain benchmark fills the EnOS
// emulator's: a few hundred thousand points kept of at most 2 million.
func BenchmarkRingFill(b *testing.B) {
	const n = 300_000
	p := EnOSPoint{EnOSDevice: EnOSDevice{ProductKey: "pk", DeviceKey: "dk"}, PointID: "power", Value: 1.5, MessageID: "m"}
	b.ReportAllocs()
	for b.Loop() {
		r := newRing[EnOSPoint](2_000_000)
		for range n {
			r.push(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
}
