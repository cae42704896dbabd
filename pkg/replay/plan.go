package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

// Unbounded as a range's End reads on past the log end (tail --follow).
const Unbounded int64 = -1

// PartitionRange is the offsets [Start, End) of one partition to read.
type PartitionRange struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Start     int64  `json:"start"`
	End       int64  `json:"end"`
}

// Len is the number of offsets in the range (0 when unbounded).
func (r PartitionRange) Len() int64 {
	if r.End == Unbounded || r.End < r.Start {
		return 0
	}
	return r.End - r.Start
}

// Plan is what a replay reads: one range per partition.
type Plan struct {
	Ranges []PartitionRange `json:"ranges"`
}

// Total is the number of offsets in every bounded range.
func (p Plan) Total() int64 {
	var n int64
	for _, r := range p.Ranges {
		n += r.Len()
	}
	return n
}

// Admin is what resolving offsets needs of a *kafka.Client.
type Admin interface {
	Metadata(ctx context.Context, req *kafka.MetadataRequest) (*kafka.MetadataResponse, error)
	ListOffsets(ctx context.Context, req *kafka.ListOffsetsRequest) (*kafka.ListOffsetsResponse, error)
}

// Resolve turns from and to into offsets for every partition of topics:
// from (default earliest) is the first offset to read, to (default latest,
// the log end now) the first not to read. Times are looked up with
// ListOffsets: the first record stamped at or after the time. Offsets are
// clamped to what the partition holds, so a range is never larger than the
// log as it is now and a replay always ends.
func Resolve(ctx context.Context, admin Admin, topics []string, from, to Bound) (Plan, error) {
	if !from.IsSet() {
		from = Earliest()
	}
	if !to.IsSet() {
		to = Latest()
	}
	var plan Plan
	for _, topic := range topics {
		parts, err := Partitions(ctx, admin, topic)
		if err != nil {
			return Plan{}, err
		}
		first, last, err := LogOffsets(ctx, admin, topic, parts)
		if err != nil {
			return Plan{}, err
		}
		starts, err := boundOffsets(ctx, admin, topic, parts, from, first, last, first)
		if err != nil {
			return Plan{}, fmt.Errorf("resolving the start of %s: %w", topic, err)
		}
		ends, err := boundOffsets(ctx, admin, topic, parts, to, first, last, last)
		if err != nil {
			return Plan{}, fmt.Errorf("resolving the end of %s: %w", topic, err)
		}
		for _, p := range parts {
			s := min(max(starts[p], first[p]), last[p])
			e := min(max(ends[p], s), last[p])
			plan.Ranges = append(plan.Ranges, PartitionRange{Topic: topic, Partition: p, Start: s, End: e})
		}
	}
	return plan, nil
}

func boundOffsets(ctx context.Context, admin Admin, topic string, parts []int, b Bound, first, last, dflt map[int]int64) (map[int]int64, error) {
	out := make(map[int]int64, len(parts))
	switch b.kind {
	case kindEarliest:
		return first, nil
	case kindLatest:
		return last, nil
	case kindOffset:
		for _, p := range parts {
			out[p] = b.offset
		}
	case kindOffsets:
		for p := range b.offsets {
			if _, ok := first[p]; !ok {
				return nil, fmt.Errorf("partition %d: %s has partitions %v", p, topic, parts)
			}
		}
		for _, p := range parts {
			if o, ok := b.offsets[p]; ok {
				out[p] = o
			} else {
				out[p] = dflt[p]
			}
		}
	case kindTime:
		return OffsetsForTime(ctx, admin, topic, parts, b.time)
	default:
		return dflt, nil
	}
	return out, nil
}

// Partitions lists the partitions of topic, sorted.
func Partitions(ctx context.Context, admin Admin, topic string) ([]int, error) {
	return topics.Partitions(ctx, admin, topic)
}

// LogOffsets returns, per partition, the first retained offset and the log
// end offset (the offset the next record will get).
func LogOffsets(ctx context.Context, admin Admin, topic string, parts []int) (first, last map[int]int64, err error) {
	// Two requests: a partition may appear only once per request.
	firstReq := make([]kafka.OffsetRequest, len(parts))
	lastReq := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		firstReq[i] = kafka.FirstOffsetOf(p)
		lastReq[i] = kafka.LastOffsetOf(p)
	}
	firsts, err := listOffsets(ctx, admin, topic, firstReq)
	if err != nil {
		return nil, nil, err
	}
	lasts, err := listOffsets(ctx, admin, topic, lastReq)
	if err != nil {
		return nil, nil, err
	}
	first, last = map[int]int64{}, map[int]int64{}
	for _, p := range parts {
		first[p] = firsts[p].FirstOffset
		last[p] = lasts[p].LastOffset
		if first[p] < 0 || last[p] < 0 {
			return nil, nil, fmt.Errorf("listing offsets of %s/%d: broker returned first %d, last %d", topic, p, first[p], last[p])
		}
	}
	return first, last, nil
}

// OffsetsForTime returns, per partition, the offset of the first record
// stamped at or after t, or the log end offset when there is none.
func OffsetsForTime(ctx context.Context, admin Admin, topic string, parts []int, t time.Time) (map[int]int64, error) {
	req := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		req[i] = kafka.TimeOffsetOf(p, t)
	}
	res, err := listOffsets(ctx, admin, topic, req)
	if err != nil {
		return nil, err
	}
	var ends map[int]int64
	out := make(map[int]int64, len(parts))
	for _, p := range parts {
		off := int64(-1)
		for o := range res[p].Offsets {
			off = o
		}
		if off < 0 {
			if ends == nil {
				if _, ends, err = LogOffsets(ctx, admin, topic, parts); err != nil {
					return nil, err
				}
			}
			off = ends[p]
		}
		out[p] = off
	}
	return out, nil
}

func listOffsets(ctx context.Context, admin Admin, topic string, req []kafka.OffsetRequest) (map[int]kafka.PartitionOffsets, error) {
	resp, err := admin.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	out := map[int]kafka.PartitionOffsets{}
	var errs []error
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			errs = append(errs, fmt.Errorf("listing offsets of %s/%d: %w", topic, po.Partition, po.Error))
		}
		out[po.Partition] = po
	}
	for _, r := range req {
		if _, ok := out[r.Partition]; !ok {
			errs = append(errs, fmt.Errorf("listing offsets of %s/%d: no answer", topic, r.Partition))
		}
	}
	return out, errors.Join(errs...)
}
