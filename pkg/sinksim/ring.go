package sinksim

// ring keeps the last max items pushed (every item when max is 0), oldest
// first. Once full it overwrites the oldest in place: a push costs no copy
// and no allocation (copying the kept items every max/10 pushes was most
// of the EnOS emulator's cost under load: it stores one item per
// measurement point). Not safe for concurrent use: the emulators hold
// their locks.
type ring[T any] struct {
	max   int
	items []T // grows up to max, then is reused
	next  int // once full: the index of the oldest item, the next overwritten
}

func newRing[T any](max int) ring[T] { return ring[T]{max: max} }

func (r *ring[T]) push(v T) {
	if r.max <= 0 || len(r.items) < r.max {
		if len(r.items) == cap(r.items) && r.max > 0 {
			// Grow as append would, but never past max.
			grown := make([]T, len(r.items), min(max(2*cap(r.items), 64), r.max))
			copy(grown, r.items)
			r.items = grown
		}
		r.items = append(r.items, v)
		return
	}
	r.items[r.next] = v
	r.next = (r.next + 1) % r.max
}

// snapshot returns a copy of the items, oldest first.
func (r *ring[T]) snapshot() []T {
	out := make([]T, 0, len(r.items))
	out = append(out, r.items[r.next:]...)
	return append(out, r.items[:r.next]...)
}

// reset forgets every item.
func (r *ring[T]) reset() { r.items, r.next = nil, 0 }
