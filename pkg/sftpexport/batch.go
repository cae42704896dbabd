package sftpexport

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// OffsetRange is the Kafka offsets of one partition a file covers,
// inclusive.
type OffsetRange struct {
	Partition int
	First     int64
	Last      int64
}

// Batch is the content of one file: rows from the records of the given
// offset ranges.
type Batch struct {
	// Prefix starts the file name, for example "telemetry".
	Prefix string
	// Ranges are the offsets the rows come from, at most one per partition.
	Ranges []OffsetRange
	Rows   []Row
}

// FileName derives the file name from the prefix and offset ranges, for
// example "telemetry-p0-100-199.csv" or, for several partitions (sorted),
// "telemetry-p0-100-199_p3-7-42.json". The same batch always gets the same
// name, so a retried upload replaces the earlier file.
func (b Batch) FileName(f Format) (string, error) {
	if b.Prefix == "" || strings.ContainsAny(b.Prefix, `/\`) || strings.HasPrefix(b.Prefix, ".") {
		return "", fmt.Errorf("file prefix %q: must be non-empty, without '/' and not start with '.'", b.Prefix)
	}
	if len(b.Ranges) == 0 {
		return "", errors.New("batch has no offset ranges")
	}
	ranges := slices.Clone(b.Ranges)
	slices.SortFunc(ranges, func(a, b OffsetRange) int { return a.Partition - b.Partition })
	var sb strings.Builder
	sb.WriteString(b.Prefix)
	for i, r := range ranges {
		if r.Partition < 0 || r.First < 0 || r.First > r.Last {
			return "", fmt.Errorf("offset range %+v: want partition ≥ 0 and 0 ≤ first ≤ last", r)
		}
		if i > 0 && ranges[i-1].Partition == r.Partition {
			return "", fmt.Errorf("partition %d appears twice in the batch", r.Partition)
		}
		sep := "-"
		if i > 0 {
			sep = "_"
		}
		fmt.Fprintf(&sb, "%sp%d-%d-%d", sep, r.Partition, r.First, r.Last)
	}
	sb.WriteString(f.Ext())
	return sb.String(), nil
}
