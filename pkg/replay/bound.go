package replay

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Bound is one end of a replay range: a point in time, offsets (one for
// every partition, or one per partition), the earliest retained record or
// the log end. The zero Bound is unset.
type Bound struct {
	kind    boundKind
	time    time.Time
	offset  int64         // kindOffset: every partition
	offsets map[int]int64 // kindOffsets: per partition
}

type boundKind int

const (
	kindUnset boundKind = iota
	kindEarliest
	kindLatest
	kindTime
	kindOffset
	kindOffsets
)

// Earliest is the first retained record of each partition.
func Earliest() Bound { return Bound{kind: kindEarliest} }

// Latest is the log end of each partition when the range is resolved.
func Latest() Bound { return Bound{kind: kindLatest} }

// AtTime is the first record whose timestamp is at or after t.
func AtTime(t time.Time) Bound { return Bound{kind: kindTime, time: t} }

// AtOffset is the same offset in every partition.
func AtOffset(o int64) Bound { return Bound{kind: kindOffset, offset: o} }

// ParseBound reads a bound as operators write it: an RFC 3339 time
// ("2026-11-21T08:00:00Z"), an offset for every partition ("1200"), offsets
// per partition ("0=1200,3=77"; partitions not named use the range's other
// default), "earliest", or "latest" / "now".
func ParseBound(s string) (Bound, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return Bound{}, nil
	case "earliest", "beginning":
		return Earliest(), nil
	case "latest", "now", "end":
		return Latest(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return AtTime(t), nil
	}
	if o, err := strconv.ParseInt(s, 10, 64); err == nil {
		if o < 0 {
			return Bound{}, fmt.Errorf("%q: an offset must be ≥ 0", s)
		}
		return AtOffset(o), nil
	}
	if strings.Contains(s, "=") {
		m := map[int]int64{}
		for _, part := range strings.Split(s, ",") {
			p, o, ok := strings.Cut(strings.TrimSpace(part), "=")
			pi, perr := strconv.Atoi(p)
			oi, oerr := strconv.ParseInt(o, 10, 64)
			if !ok || perr != nil || oerr != nil || pi < 0 || oi < 0 {
				return Bound{}, fmt.Errorf("%q: want partition=offset[,partition=offset…]", part)
			}
			m[pi] = oi
		}
		return Bound{kind: kindOffsets, offsets: m}, nil
	}
	return Bound{}, fmt.Errorf("%q: want an RFC 3339 time (2026-11-21T08:00:00Z), an offset, partition=offset pairs, earliest or latest", s)
}

// IsSet reports whether b was given.
func (b Bound) IsSet() bool { return b.kind != kindUnset }

// Time returns the bound's time, if it is a time.
func (b Bound) Time() (time.Time, bool) { return b.time, b.kind == kindTime }

// String renders b so that ParseBound reads it back.
func (b Bound) String() string {
	switch b.kind {
	case kindEarliest:
		return "earliest"
	case kindLatest:
		return "latest"
	case kindTime:
		return b.time.UTC().Format(time.RFC3339Nano)
	case kindOffset:
		return strconv.FormatInt(b.offset, 10)
	case kindOffsets:
		keys := make([]int, 0, len(b.offsets))
		for p := range b.offsets {
			keys = append(keys, p)
		}
		sort.Ints(keys)
		parts := make([]string, len(keys))
		for i, p := range keys {
			parts[i] = fmt.Sprintf("%d=%d", p, b.offsets[p])
		}
		return strings.Join(parts, ",")
	}
	return ""
}
