package enos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The references: what MarshalJSON wrote with encoding/json. Points are
// the map of them, each assigned in turn.
func measurepointReference(e MeasurepointEntry) ([]byte, error) {
	m := e.Measurepoints
	if len(e.Points) > 0 {
		m = map[string]any{}
		for _, p := range e.Points {
			m[p.ID] = p.Value
		}
	}
	return json.Marshal(struct {
		Device
		Time          int64          `json:"time"`
		Measurepoints map[string]any `json:"measurepoints"`
	}{e.Device, e.Time.UnixMilli(), m})
}

func eventReference(e EventEntry) ([]byte, error) {
	return json.Marshal(struct {
		Device
		Time   int64                     `json:"time"`
		Events map[string]map[string]any `json:"events"`
	}{e.Device, e.Time.UnixMilli(), e.Events})
}

func attributeReference(e AttributeEntry) ([]byte, error) {
	return json.Marshal(struct {
		Device
		Attributes map[string]any `json:"attributes"`
	}{e.Device, e.Attributes})
}

var tricky = []string{"", "a", "é", "<b>&</b>", "quote\"back\\slash", "tab\tnl\n\x00\x1f", "\u2028\u2029", "bad\xffutf8", "日本語", "\x7f"}

func randomString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return tricky[rng.IntN(len(tricky))]
	}
	b := make([]byte, rng.IntN(12))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return string(b)
}

func randomValue(rng *rand.Rand, depth int) any {
	floats := []float64{0, math.Copysign(0, -1), 1e-7, 1e-6, 1e20, 1e21, 123456789e-15, math.MaxFloat64, math.SmallestNonzeroFloat64, 230.1, 16.02, math.NaN(), math.Inf(1)}
	switch rng.IntN(13) {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return randomString(rng)
	case 3:
		return rng.Int64() - rng.Int64()
	case 4:
		return rng.IntN(1000) - 500
	case 5:
		return rng.Uint64()
	case 6:
		return floats[rng.IntN(len(floats))]
	case 7:
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30))
	case 8:
		return float32(rng.NormFloat64())
	case 9:
		return QualityValue{Value: rng.Float64(), Quality: rng.IntN(10)}
	case 10:
		return []any{rng.Float64(), randomString(rng)}
	case 11:
		if depth > 0 {
			return randomMap(rng, depth-1)
		}
		return map[string]any(nil)
	}
	return json.RawMessage(` { "x" : 1 } `)
}

func randomMap(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for i := rng.IntN(20); i >= 0; i-- {
		m[randomString(rng)] = randomValue(rng, depth)
	}
	return m
}

// pointsOf lists the values of m as Points in a random order, some ids
// given before with other values (their last point counts): what the map
// m is as Points.
func pointsOf(rng *rand.Rand, m map[string]any) []Point {
	var out []Point
	for id, v := range m {
		out = append(out, Point{ID: id, Value: v})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for i := len(out) - 1; i >= 0; i-- {
		if rng.IntN(4) == 0 { // an earlier point of the id, overridden
			out = slices.Insert(out, rng.IntN(i+1), Point{ID: out[i].ID, Value: randomValue(rng, 0)})
		}
	}
	return out
}

// checkPoints fails unless the entry given as Points, in the order given
// and sorted by SortPoints, encodes as encoding/json encodes it as the
// map mp.Measurepoints.
func checkPoints(t *testing.T, rng *rand.Rand, mp MeasurepointEntry) {
	t.Helper()
	want, wantErr := measurepointReference(mp)
	points := pointsOf(rng, mp.Measurepoints)
	if !validOrder(points, mp.Measurepoints) {
		t.Fatalf("pointsOf(%v) = %v", mp.Measurepoints, points)
	}
	for _, pts := range [][]Point{points, SortPoints(slices.Clone(points))} {
		e := MeasurepointEntry{Device: mp.Device, Time: mp.Time, Points: pts}
		got, err := e.MarshalJSON()
		if len(pts) == 0 {
			continue // an empty map is no measurepoints either way
		}
		sameJSON(t, fmt.Sprintf("points %+v", e), got, want, err, wantErr)
		if n := e.Len(); n != len(mp.Measurepoints) {
			t.Fatalf("Len() = %d, want %d", n, len(mp.Measurepoints))
		}
	}
}

// validOrder reports whether the last point of each id has m's value.
func validOrder(points []Point, m map[string]any) bool {
	last := map[string]int{}
	for i, p := range points {
		last[p.ID] = i
	}
	for id, i := range last {
		if fmt.Sprint(points[i].Value) != fmt.Sprint(m[id]) {
			return false
		}
	}
	return len(last) == len(m)
}

func randomDevice(rng *rand.Rand) Device {
	pick := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		return randomString(rng)
	}
	return Device{AssetID: pick(), ProductKey: pick(), DeviceKey: pick()}
}

// sameJSON fails unless the append encoder and encoding/json agree: the
// same bytes, or both an error with the same text.
func sameJSON(t *testing.T, what string, got, want []byte, gotErr, wantErr error) {
	t.Helper()
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%s: error %v, encoding/json %v", what, gotErr, wantErr)
	}
	if gotErr == nil && !bytes.Equal(got, want) {
		t.Fatalf("%s:\nappend        %s\nencoding/json %s", what, got, want)
	}
}

func checkEntries(t *testing.T, rng *rand.Rand) {
	t.Helper()
	dev := randomDevice(rng)
	tm := time.UnixMilli(rng.Int64N(1<<43) - 1<<40)
	mp := MeasurepointEntry{Device: dev, Time: tm, Measurepoints: randomMap(rng, 1)}
	if dev.validate() == nil { // validation is checked by the client's tests
		got, err := mp.MarshalJSON()
		want, wantErr := measurepointReference(mp)
		sameJSON(t, fmt.Sprintf("measurepoints %+v", mp), got, want, err, wantErr)
		checkPoints(t, rng, mp)

		ev := EventEntry{Device: dev, Time: tm, Events: map[string]map[string]any{randomString(rng): randomMap(rng, 0), randomString(rng): nil}}
		got, err = ev.MarshalJSON()
		want, wantErr = eventReference(ev)
		sameJSON(t, fmt.Sprintf("events %+v", ev), got, want, err, wantErr)

		at := AttributeEntry{Device: dev, Attributes: randomMap(rng, 1)}
		got, err = at.MarshalJSON()
		want, wantErr = attributeReference(at)
		sameJSON(t, fmt.Sprintf("attributes %+v", at), got, want, err, wantErr)
	}
}

// TestAppendJSON compares the entries' append encoders with encoding/json
// on random entries: every kind of value, keys and strings that need
// escaping, floats at the formats' edges, values they leave to
// encoding/json and ones it rejects.
func TestAppendJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		checkEntries(t, rng)
	}
	for _, f := range []float64{1e-6, 9.99999e-7, 1e21, 999999999999999999999.0, -1e-300, 5e-324, 1.5e300, 0.1, 100} {
		got, _ := appendJSONValue(nil, f)
		want, _ := json.Marshal(f)
		if !bytes.Equal(got, want) {
			t.Errorf("%v: append %s, encoding/json %s", f, got, want)
		}
	}
}

// TestMessageJSON compares the envelope's encoder with encoding/json.
func TestMessageJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		var params []json.RawMessage
		for j := rng.IntN(5); j > 0; j-- {
			e := MeasurepointEntry{Device: Device{AssetID: "a"}, Time: time.UnixMilli(rng.Int64()), Measurepoints: randomMap(rng, 1)}
			if raw, err := e.MarshalJSON(); err == nil {
				params = append(params, raw)
			}
		}
		for _, k := range []kind{kindMeasurepoint, kindEvent, kindAttribute} {
			m := newMessage(newRequestID(), k, sendOptions{backfill: i%2 == 0}, params)
			want, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.appendJSON(nil); !bytes.Equal(got, want) {
				t.Fatalf("append %s\nencoding/json %s", got, want)
			}
		}
	}
}

// FuzzAppendJSON compares the append encoders with encoding/json on
// entries built from the fuzzer's input.
func FuzzAppendJSON(f *testing.F) {
	f.Add("pk", "dev", "k<", "v&", int64(-5), 2.5, uint64(1<<63), true)
	f.Add("", "", "", "", int64(0), 1e-7, uint64(0), false)
	f.Fuzz(func(t *testing.T, pk, dk, key, s string, l int64, d float64, u uint64, flag bool) {
		vals := map[string]any{key: s, key + "l": l, key + "d": d, key + "u": u, key + "b": flag, s: nil,
			key + "q": QualityValue{Value: d, Quality: int(l % 10)}, key + "m": map[string]any{s: d, key: l}}
		mp := MeasurepointEntry{Device: Device{ProductKey: pk, DeviceKey: dk, AssetID: s}, Time: time.UnixMilli(l), Measurepoints: vals}
		if mp.Device.validate() != nil {
			mp.Device.AssetID = "asset"
		}
		got, err := mp.MarshalJSON()
		want, wantErr := measurepointReference(mp)
		sameJSON(t, "measurepoints", got, want, err, wantErr)
		ev := EventEntry{Device: mp.Device, Time: mp.Time, Events: map[string]map[string]any{key: vals, s: nil}}
		got, err = ev.MarshalJSON()
		want, wantErr = eventReference(ev)
		sameJSON(t, "events", got, want, err, wantErr)
		// Through marshalAll: the next entries reuse the first's sorted ids.
		same := maps.Clone(vals)
		same[key] = l
		other := maps.Clone(vals)
		delete(other, s)
		other[s+"!"] = d
		checkMarshalAll(t, []MeasurepointEntry{mp, {Device: mp.Device, Time: mp.Time, Measurepoints: same}, {Device: mp.Device, Time: mp.Time, Measurepoints: other}})
		checkPoints(t, rand.New(rand.NewPCG(uint64(l), u)), mp)
	})
}

// checkMarshalAll encodes entries with marshalAll, as the client does (the
// sorted keys of one entry reused for the next with the same keys), and
// compares each with encoding/json's.
func checkMarshalAll(t *testing.T, entries []MeasurepointEntry) {
	t.Helper()
	for i, enc := range marshalAll(entries) {
		want, wantErr := measurepointReference(entries[i])
		if wantErr == nil && entries[i].Device.validate() != nil {
			continue
		}
		var err error
		if enc.err != nil {
			err = errors.Unwrap(enc.err)
			if u := errors.Unwrap(err); u != nil {
				err = u
			}
		}
		sameJSON(t, fmt.Sprintf("entry %d %+v", i, entries[i]), enc.raw, want, err, wantErr)
	}
}

// TestMarshalAllNonFiniteAfterOtherKeys: an entry with as many point ids
// as the one before but not the same, and a value JSON cannot carry under
// an id both share, fails as encoding/json fails on it: on the first such
// value in its own sorted ids (+Inf under "a"), not in the ids of the
// entry before (NaN under "b"). TestMarshalAllSharedKeys met it once in
// its random maps.
func TestMarshalAllNonFiniteAfterOtherKeys(t *testing.T) {
	checkMarshalAll(t, []MeasurepointEntry{
		{Device: Device{AssetID: "a"}, Time: time.UnixMilli(1), Measurepoints: map[string]any{"b": 1.0, "c": 2.0}},
		{Device: Device{AssetID: "a"}, Time: time.UnixMilli(2), Measurepoints: map[string]any{"a": math.Inf(1), "b": math.NaN()}},
	})
}

// TestMarshalAllSharedKeys: entries that share their point ids with the
// one before, or have as many but others, or more or fewer, each encode
// as encoding/json encodes them alone.
func TestMarshalAllSharedKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		var entries []MeasurepointEntry
		m := randomMap(rng, 1)
		for j := rng.IntN(20); j >= 0; j-- {
			switch next := map[string]any{}; rng.IntN(5) {
			case 0: // the same ids, other values
				for k := range m {
					next[k] = randomValue(rng, 1)
				}
				m = next
			case 1: // as many ids, one replaced
				for k, v := range m {
					next[k] = v
				}
				for k := range next {
					delete(next, k)
					break
				}
				next[randomString(rng)+"x"] = 1
				m = next
			case 2:
				m = randomMap(rng, 1)
			}
			entries = append(entries, MeasurepointEntry{Device: Device{AssetID: "a"}, Time: time.UnixMilli(rng.Int64N(1 << 42)), Measurepoints: m})
		}
		checkMarshalAll(t, entries)
		// The same entries as Points, some sorted, between entries of maps.
		for i := range entries {
			if rng.IntN(2) == 0 && len(entries[i].Measurepoints) > 0 {
				pts := pointsOf(rng, entries[i].Measurepoints)
				if rng.IntN(2) == 0 {
					pts = SortPoints(pts)
				}
				entries[i].Points, entries[i].Measurepoints = pts, nil
			}
		}
		checkMarshalAll(t, entries)
	}
}
