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
