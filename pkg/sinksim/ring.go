package sinksim

// ring keeps the last max items pushed (every item when max is 0), oldest
// first. Its items are held in chunks of a fixed size: growing adds a
// chunk and never copies the items kept (growing one slice by doubling
// copied each item again at every doubling, a fifth of the EnOS
// emulator's CPU in the chain benchmark, with the GC's write barriers on
// top). Once full it overwrites the oldest in place: a push costs no copy
// and no allocation (copying the kept items every max/10 pushes was most
// of the EnOS emulator's cost under load: it stores one item per
// measurement point). Not safe for concurrent use: the emulators hold
// their locks.
type ring[T any] struct {
	max    int
	chunk  int   // items per chunk
	chunks [][]T // all full but the last, which grows up to chunk items
	n      int   // items kept: up to max
	next   int   // once full: the index of the oldest item, the next overwritten
}

// ringChunk is how many items a chunk of a ring holds.
const ringChunk = 4096

func newRing[T any](max int) ring[T] { return ring[T]{max: max, chunk: ringChunk} }

func (r *ring[T]) push(v T) {
	if r.max > 0 && r.n == r.max {
		r.chunks[r.next/r.chunk][r.next%r.chunk] = v
		r.next = (r.next + 1) % r.max
		return
	}
	if len(r.chunks) == 0 || len(r.chunks[len(r.chunks)-1]) == r.chunk {
		r.chunks = append(r.chunks, nil)
	}
	last := &r.chunks[len(r.chunks)-1]
	if len(*last) == cap(*last) {
		// Grow the last chunk as append would, but never past a chunk
		// nor past max.
		c := min(max(2*cap(*last), 64), r.chunk)
		if r.max > 0 {
			c = min(c, r.max-(r.n-len(*last)))
		}
		grown := make([]T, len(*last), c)
		copy(grown, *last)
		*last = grown
	}
	*last = append(*last, v)
	r.n++
}

// snapshot returns a copy of the items, oldest first.
func (r *ring[T]) snapshot() []T {
	out := make([]T, 0, r.n)
	out = r.appendRange(out, r.next, r.n)
	return r.appendRange(out, 0, r.next)
}

// appendRange appends the items stored at [lo, hi).
func (r *ring[T]) appendRange(out []T, lo, hi int) []T {
	for lo < hi {
		c := r.chunks[lo/r.chunk]
		from := lo % r.chunk
		to := min(len(c), from+hi-lo)
		out = append(out, c[from:to]...)
		lo += to - from
	}
	return out
}

// reset forgets every item.
func (r *ring[T]) reset() { r.chunks, r.n, r.next = nil, 0, 0 }
