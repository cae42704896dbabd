package records

import (
	"time"
)

// DeadLetter is a record that a stage could not process and that retrying
// cannot fix, kept whole with the reason on the stage's DLQ topic.
type DeadLetter struct {
	Stage           string
	Reason          string // short stable code to group by
	Error           string
	Attempts        int32
	FailedAt        time.Time
	EventID         *string
	SourceTopic     *string
	SourcePartition int32
	SourceOffset    int64
	Key             []byte
	Value           []byte
	Headers         map[string]string
}

// SchemaName implements Record.
func (*DeadLetter) SchemaName() string { return "DeadLetter" }

func (d *DeadLetter) headers() map[string]string {
	h := map[string]string{"event_type": "dead_letter", "reason": d.Reason, "stage": d.Stage}
	if d.EventID != nil {
		h["event_id"] = *d.EventID
	}
	if pk, ok := d.Headers["product_key"]; ok {
		h["product_key"] = pk
	}
	return h
}

func (d *DeadLetter) toNative() (map[string]any, error) {
	value := d.Value
	if value == nil {
		value = []byte{}
	}
	return map[string]any{
		"stage":            d.Stage,
		"reason":           d.Reason,
		"error":            d.Error,
		"attempts":         d.Attempts,
		"failed_at":        d.FailedAt,
		"event_id":         optString(d.EventID),
		"source_topic":     optString(d.SourceTopic),
		"source_partition": d.SourcePartition,
		"source_offset":    d.SourceOffset,
		"key":              optBytes(d.Key),
		"value":            value,
		"headers":          strMapNative(d.Headers),
	}, nil
}

func (d *DeadLetter) fromNative(m map[string]any) error {
	r := &reader{m: m}
	*d = DeadLetter{
		Stage:           r.str("stage"),
		Reason:          r.str("reason"),
		Error:           r.str("error"),
		Attempts:        int32(r.long("attempts")),
		FailedAt:        r.time("failed_at"),
		EventID:         r.optStr("event_id"),
		SourceTopic:     r.optStr("source_topic"),
		SourcePartition: int32(r.long("source_partition")),
		SourceOffset:    r.long("source_offset"),
		Key:             r.bytes("key"),
		Value:           r.bytes("value"),
		Headers:         r.strMap("headers"),
	}
	return r.err
}
