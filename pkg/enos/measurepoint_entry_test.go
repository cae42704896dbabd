package enos_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/enos"
)

// TestPointSorterAgreesWithSortPoints: a sorter used for one sequence of
// point lists sorts each as SortPoints does, whether its ids are those of
// the list before (in the same order, or not, or one changed) or not,
// repeated ids included.
func TestPointSorterAgreesWithSortPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ids := []string{"a", "b", "c", "V", "state", "é", ""}
	var (
		s    enos.PointSorter
		last []enos.Point
	)
	for i := range 5000 {
		var points []enos.Point
		switch rng.IntN(4) {
		case 0, 1: // the ids of the list before, other values
			for _, p := range last {
				points = append(points, enos.Point{ID: p.ID, Value: i})
			}
			if len(points) > 0 && rng.IntN(3) == 0 {
				points[rng.IntN(len(points))].ID = ids[rng.IntN(len(ids))]
			}
		case 2: // shuffled
			points = slices.Clone(last)
			rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
		default:
			for j := rng.IntN(10); j > 0; j-- {
				points = append(points, enos.Point{ID: ids[rng.IntN(len(ids))], Value: j})
			}
		}
		last = slices.Clone(points)
		want := enos.SortPoints(slices.Clone(points))
		if got := s.Sort(points); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Sort(%v) = %v, SortPoints %v", last, got, want)
		}
	}
}

// TestMeasurepointEntryValue: Value reads a point from the map or the list,
// the later of two of one id in the list, as the entry is encoded.
func TestMeasurepointEntryValue(t *testing.T) {
	list := enos.MeasurepointEntry{Points: []enos.Point{{ID: "v", Value: 1.0}, {ID: "s", Value: "on"}, {ID: "v", Value: 2.0}}}
	byMap := enos.MeasurepointEntry{Measurepoints: map[string]any{"v": 3.0}}
	for _, tt := range []struct {
		e    enos.MeasurepointEntry
		id   string
		want any
		ok   bool
	}{
		{list, "v", 2.0, true}, {list, "s", "on", true}, {list, "x", nil, false},
		{byMap, "v", 3.0, true}, {byMap, "x", nil, false},
	} {
		if got, ok := tt.e.Value(tt.id); got != tt.want || ok != tt.ok {
			t.Errorf("%+v.Value(%q) = %v, %v; want %v, %v", tt.e, tt.id, got, ok, tt.want, tt.ok)
		}
	}
}
