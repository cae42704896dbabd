package enos

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/jsonappend"
)

// MeasurepointEntry is one params entry of integration.measurepoint.post:
// the values of some measurement points of one device at one time. Values
// are scalars, arrays or QualityValue.
type MeasurepointEntry struct {
	Device
	Time time.Time
	// Measurepoints are the values by measurement point id.
	Measurepoints map[string]any
	// Points are the values as a list instead, for a caller that would
	// build a map per entry only to have it encoded (set one of the two):
	// encoded exactly as the map of them, in which of two points of one id
	// the later counts. Sorted by id without repeats (see SortPoints) they
	// are encoded in one pass, without a sort or a copy.
	Points []Point
}

// Point is one measurement point's value, for MeasurepointEntry.Points.
type Point struct {
	ID    string
	Value any
}

// SortPoints sorts points by id, keeps of the points of one id only the
// last in the order given (as assigning them to a map in turn would), and
// returns the shortened slice: points as MeasurepointEntry.Points encodes
// them fastest.
func SortPoints(points []Point) []Point {
	if sortedPoints(points) {
		return points
	}
	slices.SortStableFunc(points, func(a, b Point) int { return strings.Compare(a.ID, b.ID) })
	out := points[:0]
	for i, p := range points {
		if i+1 < len(points) && points[i+1].ID == p.ID {
			continue // a later point of the same id counts
		}
		out = append(out, p)
	}
	clear(points[len(out):]) // no values kept alive past the end
	return out
}

// PointSorter is SortPoints remembering the order of the last points it
// sorted: the records of a batch mostly name the same ids in the same
// order (their product's data points), and checking that costs a string
// comparison per point instead of a sort (which was most of building a
// record's points). The zero value is ready; not safe for concurrent use.
type PointSorter struct {
	ids  []string // the ids of the last points sorted, in the order given
	keep []int    // their indexes in sorted order, the overridden left out
	tmp  []Point
}

// Sort returns SortPoints(points), sorted in place likewise.
func (s *PointSorter) Sort(points []Point) []Point {
	if sortedPoints(points) {
		return points
	}
	if !s.same(points) {
		s.learn(points)
	}
	s.tmp = s.tmp[:0]
	for _, i := range s.keep {
		s.tmp = append(s.tmp, points[i])
	}
	n := copy(points, s.tmp)
	clear(points[n:])
	clear(s.tmp) // no values kept alive by the sorter
	return points[:n]
}

// same reports whether points have the ids of the last points sorted, in
// the same order.
func (s *PointSorter) same(points []Point) bool {
	if len(points) != len(s.ids) {
		return false
	}
	for i, p := range points {
		if p.ID != s.ids[i] {
			return false
		}
	}
	return true
}

// learn remembers the ids of points and their sorted order.
func (s *PointSorter) learn(points []Point) {
	s.ids, s.keep = s.ids[:0], s.keep[:0]
	for i, p := range points {
		s.ids = append(s.ids, p.ID)
		s.keep = append(s.keep, i)
	}
	slices.SortStableFunc(s.keep, func(a, b int) int { return strings.Compare(s.ids[a], s.ids[b]) })
	out := s.keep[:0]
	for j, i := range s.keep {
		if j+1 < len(s.keep) && s.ids[s.keep[j+1]] == s.ids[i] {
			continue // a later point of the same id counts
		}
		out = append(out, i)
	}
	s.keep = out
}

// sortedPoints reports whether the ids of points strictly increase.
func sortedPoints(points []Point) bool {
	for i := 1; i < len(points); i++ {
		if points[i-1].ID >= points[i].ID {
			return false
		}
	}
	return true
}

// MarshalJSON encodes the entry in the wire form, time in epoch ms.
func (e MeasurepointEntry) MarshalJSON() ([]byte, error) { return e.appendJSON(nil, nil) }

// Value is the value the entry sends for point id, from Measurepoints or
// Points (the later of two of one id, as encoded), and whether it has one.
func (e MeasurepointEntry) Value(id string) (any, bool) {
	if v, ok := e.Measurepoints[id]; ok {
		return v, true
	}
	for i := len(e.Points) - 1; i >= 0; i-- {
		if e.Points[i].ID == id {
			return e.Points[i].Value, true
		}
	}
	return nil, false
}

// Len is the number of measurement points the entry sends.
func (e MeasurepointEntry) Len() int {
	if len(e.Measurepoints) > 0 || sortedPoints(e.Points) {
		return len(e.Measurepoints) + len(e.Points)
	}
	return len(SortPoints(slices.Clone(e.Points)))
}

// appendJSON appends what MarshalJSON returns, sorting the point ids with
// the help of keys (nil: none).
func (e MeasurepointEntry) appendJSON(b []byte, keys *sortedKeys) ([]byte, error) {
	if err := e.Device.validate(); err != nil {
		return nil, err
	}
	if len(e.Measurepoints) > 0 && len(e.Points) > 0 {
		return nil, errors.New("entry has both Measurepoints and Points: set one")
	}
	ms := e.Time.UnixMilli()
	if len(e.Points) == 0 {
		if len(e.Measurepoints) == 0 {
			return nil, errors.New("entry has no measurepoints")
		}
		return appendJSONEntry(b, e.Device, &ms, "measurepoints", e.Measurepoints, keys)
	}
	points := e.Points
	if !sortedPoints(points) {
		if keys == nil {
			keys = &sortedKeys{}
		}
		keys.points = SortPoints(append(keys.points[:0], points...))
		points = keys.points
	}
	b = appendJSONEntryHead(b, e.Device, &ms, "measurepoints")
	b = append(b, '{')
	for i, p := range points {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(jsonappend.String(b, p.ID), ':')
		var err error
		if b, err = appendJSONValue(b, p.Value); err != nil {
			return nil, err
		}
	}
	return append(b, '}', '}'), nil
}
