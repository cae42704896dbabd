package replay

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
)

// TimeBasis is what a replay's time range selects records by.
type TimeBasis string

// Time bases.
const (
	// TimeKafka selects by the Kafka record timestamp, which the ingest
	// leaves as the time it wrote the record: after an outage with a
	// backlog, hours after the device's own time. The default.
	TimeKafka TimeBasis = "kafka"
	// TimeDevice selects by the device's time: a SnotiEvent's created_at,
	// a DeviceTelemetry's time (the created_at of its event).
	TimeDevice TimeBasis = "device"
)

// ParseTimeBasis reads "kafka" (or "") and "device".
func ParseTimeBasis(s string) (TimeBasis, error) {
	switch b := TimeBasis(strings.TrimSpace(s)); b {
	case "", TimeKafka:
		return TimeKafka, nil
	case TimeDevice:
		return b, nil
	}
	return "", fmt.Errorf("%q: want kafka (the record timestamp, when it was written to Kafka) or device (the device's created_at)", s)
}

// Bounds of a replay by device time.
const (
	// DefaultLateness is how long after its device time a record may reach
	// Kafka: SNoti keeps undelivered messages for three days.
	DefaultLateness = 72 * time.Hour
	// DeviceClockSkew is how far a device's time may be ahead of the
	// broker's clock; the scan starts that much before the range.
	DeviceClockSkew = 5 * time.Minute
)

// DeviceTimeScan returns the Kafka-time bounds to read for a device-time
// range [from, to): a record whose device time is in the range was written
// to Kafka no earlier than from − DeviceClockSkew and before to + lateness.
// Only time bounds and earliest/latest make sense by device time.
func DeviceTimeScan(from, to Bound, lateness time.Duration) (Bound, Bound, error) {
	if lateness < 0 {
		return Bound{}, Bound{}, fmt.Errorf("lateness %s: must not be negative", lateness)
	}
	scanFrom, scanTo := from, to
	switch from.kind {
	case kindTime:
		scanFrom = AtTime(from.time.Add(-DeviceClockSkew))
	case kindUnset, kindEarliest:
	default:
		return Bound{}, Bound{}, fmt.Errorf("from %s: by device time, give an RFC 3339 time or earliest", from)
	}
	switch to.kind {
	case kindTime:
		scanTo = AtTime(to.time.Add(lateness))
	case kindUnset, kindLatest:
	default:
		return Bound{}, Bound{}, fmt.Errorf("to %s: by device time, give an RFC 3339 time or latest", to)
	}
	return scanFrom, scanTo, nil
}

// ErrNoDeviceTime marks a record a replay by device time cannot date.
var ErrNoDeviceTime = errors.New("record has no device time")

// DeviceTime returns a function giving a record's device time: created_at
// of a SnotiEvent, time of a DeviceTelemetry, or — when the device gave
// none — the time the ingest received it, the time the forwarders send for
// it. Other records (dead letters) fail with ErrNoDeviceTime.
func DeviceTime(codec *records.Codec) func(kafka.Message) (time.Time, error) {
	return func(m kafka.Message) (time.Time, error) {
		schema := records.Header(m, "schema")
		if !strings.HasPrefix(schema, "SnotiEvent.") {
			var t records.DeviceTelemetry
			if err := codec.Unmarshal(m.Value, &t); err == nil {
				return pick(t.Time, t.ReceivedAt)
			} else if strings.HasPrefix(schema, "DeviceTelemetry.") {
				return time.Time{}, fmt.Errorf("%w: %w", ErrNoDeviceTime, err)
			}
		}
		var e records.SnotiEvent
		if err := codec.Unmarshal(m.Value, &e); err != nil {
			return time.Time{}, fmt.Errorf("%w: neither telemetry nor a SNoti event", ErrNoDeviceTime)
		}
		return pick(e.CreatedAt, e.ReceivedAt)
	}
}

func pick(device, received time.Time) (time.Time, error) {
	switch {
	case device.Unix() > 0:
		return device, nil
	case received.Unix() > 0:
		return received, nil
	}
	return time.Time{}, ErrNoDeviceTime
}
