package records

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// deviceTelemetryV1Fingerprint is the Rabin fingerprint of
// DeviceTelemetry.v1's canonical form; Marshal uses
// appendDeviceTelemetryV1 only while v1 is the current version.
const deviceTelemetryV1Fingerprint uint64 = 0xced8bbca9c4bfe8a

// appendDeviceTelemetryV1 appends t in Avro single-object encoding with
// DeviceTelemetry.v1, field by field, without goavro's intermediate maps:
// the decoder encodes one per event, and goavro's generic path was most of
// its allocations. TestFastDeviceTelemetryEncoding and
// FuzzDeviceTelemetryEncoding check it against goavro.
func appendDeviceTelemetryV1(b []byte, fp uint64, t *DeviceTelemetry) ([]byte, error) {
	b = appendDeviceTelemetryV1Head(b, fp, t)
	if len(t.Points) > 0 {
		b = avroLong(b, int64(len(t.Points)))
		for _, p := range t.Points {
			b = avroString(b, p.Name)
			var err error
			if b, err = avroScalar(b, p.Value); err != nil {
				return nil, fmt.Errorf("point %q: %w", p.Name, err)
			}
		}
	}
	return avroLong(b, 0), nil
}

// appendDeviceTelemetryV1Head appends the single-object header and every
// field of t before its points.
func appendDeviceTelemetryV1Head(b []byte, fp uint64, t *DeviceTelemetry) []byte {
	b = append(b, 0xC3, 0x01)
	b = binary.LittleEndian.AppendUint64(b, fp)
	b = avroString(b, t.EventID)
	b = avroString(b, t.ProductKey)
	b = avroString(b, t.DID)
	b = avroString(b, t.MAC)
	b = avroLong(b, millis(t.Time))
	b = avroLong(b, millis(t.ReceivedAt))
	b = avroString(b, t.Source)
	b = avroString(b, t.Codec)
	return avroString(b, t.Kind)
}

// appendDeviceTelemetryV1Fields is appendDeviceTelemetryV1 of t with the
// points fields, each {Name, Value.Any()}, without boxing the values
// (t.Points is ignored). TestTelemetryMessage and FuzzTelemetryMessage
// check it against appendDeviceTelemetryV1 and goavro.
func appendDeviceTelemetryV1Fields(b []byte, fp uint64, t *DeviceTelemetry, fields []value.Field) []byte {
	b = appendDeviceTelemetryV1Head(b, fp, t)
	if len(fields) > 0 {
		b = avroLong(b, int64(len(fields)))
		for _, f := range fields {
			b = avroValue(avroString(b, f.Name), f.Value)
		}
	}
	return avroLong(b, 0)
}

// avroValue writes v as avroScalar writes v.Any().
func avroValue(b []byte, v value.Value) []byte {
	switch v.Kind() {
	case value.Bool:
		if v.Bool() {
			return append(avroLong(b, 1), 1)
		}
		return append(avroLong(b, 1), 0)
	case value.Int:
		return avroLong(avroLong(b, 2), v.Int())
	case value.Uint:
		if u := v.Uint(); u > math.MaxInt64 {
			return avroString(avroLong(b, 4), strconv.FormatUint(u, 10))
		}
		return avroLong(avroLong(b, 2), int64(v.Uint()))
	case value.Float:
		return binary.LittleEndian.AppendUint64(avroLong(b, 3), math.Float64bits(v.Float()))
	case value.String:
		return avroString(avroLong(b, 4), v.Str())
	}
	return avroLong(b, 0) // Invalid: Any is nil
}

// avroScalar writes v as a union{null, boolean, long, double, string}
// with exactly scalar's conversions (which goavro's path uses).
func avroScalar(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return avroLong(b, 0), nil
	case bool:
		if x {
			return append(avroLong(b, 1), 1), nil
		}
		return append(avroLong(b, 1), 0), nil
	case int:
		return avroLong(avroLong(b, 2), int64(x)), nil
	case int64:
		return avroLong(avroLong(b, 2), x), nil
	case uint64:
		if x > math.MaxInt64 {
			return avroString(avroLong(b, 4), strconv.FormatUint(x, 10)), nil
		}
		return avroLong(avroLong(b, 2), int64(x)), nil
	case uint8:
		return avroLong(avroLong(b, 2), int64(x)), nil
	case uint16:
		return avroLong(avroLong(b, 2), int64(x)), nil
	case uint32:
		return avroLong(avroLong(b, 2), int64(x)), nil
	case int32:
		return avroLong(avroLong(b, 2), int64(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(avroLong(b, 3), math.Float64bits(x)), nil
	case float32:
		return binary.LittleEndian.AppendUint64(avroLong(b, 3), math.Float64bits(float64(x))), nil
	case string:
		return avroString(avroLong(b, 4), x), nil
	}
	_, err := scalar(v)
	return nil, err
}
