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
