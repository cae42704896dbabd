package replay

import "fmt"

// Summary counts what happened to the records of a replay. Every record of
// the range ends in exactly one of Sent, Skipped, Duplicates, DeadLettered,
// Failed or Expired (Matched in a dry run, where nothing is sent).
type Summary struct {
	Sent         int64 `json:"sent"`          // handled by the sink
	Skipped      int64 `json:"skipped"`       // not selected: filter, time range, or not redrivable
	Duplicates   int64 `json:"duplicates"`    // same event_id as a record already handled
	DeadLettered int64 `json:"dead_lettered"` // rejected by the sink, written to its DLQ
	Failed       int64 `json:"failed"`        // not finished (in order) when the run stopped; resuming sends them again
	Matched      int64 `json:"matched"`       // dry run: would have been sent
	Expired      int64 `json:"expired"`       // deleted by retention before they were read
}

// Finished is the number of records whose fate is final.
func (s Summary) Finished() int64 {
	return s.Sent + s.Skipped + s.Duplicates + s.DeadLettered + s.Matched + s.Expired
}

func (s *Summary) add(o Summary) {
	s.Sent += o.Sent
	s.Skipped += o.Skipped
	s.Duplicates += o.Duplicates
	s.DeadLettered += o.DeadLettered
	s.Matched += o.Matched
	s.Expired += o.Expired
	s.Failed = o.Failed
}

// String renders the summary on one line.
func (s Summary) String() string {
	if s.Matched > 0 && s.Sent == 0 {
		return fmt.Sprintf("matched %d, skipped %d (dry run: nothing sent)", s.Matched, s.Skipped)
	}
	out := fmt.Sprintf("sent %d, skipped %d, duplicates %d, dead-lettered %d, failed %d",
		s.Sent, s.Skipped, s.Duplicates, s.DeadLettered, s.Failed)
	if s.Expired > 0 {
		out += fmt.Sprintf(", expired %d (deleted by retention before they were read)", s.Expired)
	}
	return out
}
