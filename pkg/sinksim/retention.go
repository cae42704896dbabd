package sinksim

import (
	"net/http"
	"strconv"
)

// DefaultMaxStored bounds how many items of each kind (points, events,
// attributes, uplinks, request records) an emulator keeps, so a long `make
// run` does not grow without bound. Counters keep counting past it.
const DefaultMaxStored = 200_000

// query is the common filter of the GET /sim/… listings: ?after=<seq>
// returns items with a larger sequence number, ?limit=<n> at most n of them.
type query struct {
	after int64
	limit int
}

func parseQuery(r *http.Request) (query, error) {
	var q query
	var err error
	if s := r.URL.Query().Get("after"); s != "" {
		if q.after, err = strconv.ParseInt(s, 10, 64); err != nil {
			return q, err
		}
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		if q.limit, err = strconv.Atoi(s); err != nil {
			return q, err
		}
	}
	return q, nil
}

// filter returns the items after q.after that keep accepts, at most q.limit.
func filter[T any](items []T, q query, seq func(T) int64, keep func(T) bool) []T {
	out := []T{}
	for _, it := range items {
		if seq(it) <= q.after || !keep(it) {
			continue
		}
		out = append(out, it)
		if q.limit > 0 && len(out) == q.limit {
			break
		}
	}
	return out
}

// serveList answers a GET listing with the filtered items of snapshot.
func serveList[T any](w http.ResponseWriter, r *http.Request, snapshot []T, seq func(T) int64, keep func(r *http.Request, it T) bool) {
	q, err := parseQuery(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "after and limit must be integers"})
		return
	}
	writeJSON(w, http.StatusOK, filter(snapshot, q, seq, func(it T) bool { return keep(r, it) }))
}

// matches reports whether the query parameter name is absent or equal to v.
func matches(r *http.Request, name, v string) bool {
	want := r.URL.Query().Get(name)
	return want == "" || want == v
}
