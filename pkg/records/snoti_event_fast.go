package records

import (
	"encoding/binary"
	"math"
	"sort"
	"time"
)

// snotiEventV1Fingerprint is the Rabin fingerprint of SnotiEvent.v1's
// canonical form. appendSnotiEventV1 writes exactly that schema; Marshal
// uses it only while v1 is the current version, so adding a version turns
// the fast path off rather than writing a wrong record.
const snotiEventV1Fingerprint uint64 = 0xf5602d2e711bcda9

// appendSnotiEventV1 appends e in Avro single-object encoding with
// SnotiEvent.v1, field by field, without goavro's intermediate maps: the
// ingest encodes every push, and goavro's generic path was a third of its
// CPU. TestFastSnotiEventEncoding checks it against goavro.
func appendSnotiEventV1(b []byte, fp uint64, e *SnotiEvent) ([]byte, error) {
	b, err := appendSnotiEventV1Head(b, fp, e)
	if err != nil {
		return nil, err
	}
	return avroString(b, e.RawJSON), nil
}

// appendSnotiEventV1Head is appendSnotiEventV1 up to raw_json, the last
// field, which Batch.EventMessage appends from the line itself.
func appendSnotiEventV1Head(b []byte, fp uint64, e *SnotiEvent) ([]byte, error) {
	b = append(b, 0xC3, 0x01)
	b = binary.LittleEndian.AppendUint64(b, fp)
	b = avroString(b, e.EventID)
	b = avroString(b, e.EventType)
	b = avroString(b, e.ProductKey)
	b = avroString(b, e.DID)
	b = avroString(b, e.MAC)
	b = avroOptString(b, e.GroupID)
	b = avroLong(b, millis(e.CreatedAt))
	b = avroLong(b, millis(e.ReceivedAt))
	b = avroString(b, e.Protocol)
	b = avroString(b, e.DeliveryID)
	b = avroOptString(b, e.MsgID)
	b = avroOptString(b, e.GizwitsEventID)
	if o := e.Online; o == nil {
		b = avroLong(b, 0)
	} else {
		b = avroLong(b, 1)
		b = avroString(b, o.IP)
		b = avroString(b, o.Country)
		b = avroString(b, o.Region)
		b = avroString(b, o.City)
		b = avroOptDouble(b, o.Latitude)
		b = avroOptDouble(b, o.Longitude)
		b = avroOptString(b, o.ICCID)
		b = avroOptString(b, o.IMSI)
	}
	if a := e.Attr; a == nil {
		b = avroLong(b, 0)
	} else {
		b = avroLong(b, 1)
		b = avroString(b, a.Name)
		b = avroString(b, a.DisplayName)
		b = avroLong(b, a.Value)
	}
	if e.Raw == nil {
		b = avroLong(b, 0)
	} else {
		b = avroLong(b, 1)
		b = avroBytes(b, e.Raw)
	}
	if e.KV == nil {
		b = avroLong(b, 0)
	} else {
		b = avroLong(b, 1)
		var err error
		if b, err = avroScalarMap(b, e.KV); err != nil {
			return nil, err
		}
	}
	return avroStringMap(b, e.Attributes), nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func avroLong(b []byte, v int64) []byte {
	return binary.AppendUvarint(b, uint64(v<<1)^uint64(v>>63))
}

func avroString(b []byte, s string) []byte {
	b = avroLong(b, int64(len(s)))
	return append(b, s...)
}

func avroBytes(b []byte, p []byte) []byte {
	b = avroLong(b, int64(len(p)))
	return append(b, p...)
}

func avroOptString(b []byte, p *string) []byte {
	if p == nil {
		return avroLong(b, 0)
	}
	return avroString(avroLong(b, 1), *p)
}

func avroOptDouble(b []byte, p *float64) []byte {
	if p == nil {
		return avroLong(b, 0)
	}
	return binary.LittleEndian.AppendUint64(avroLong(b, 1), math.Float64bits(*p))
}

// avroStringMap writes a map<string> as one block (sorted keys, so the
// output is deterministic), or the empty map.
func avroStringMap(b []byte, m map[string]string) []byte {
	if len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = avroLong(b, int64(len(m)))
		for _, k := range keys {
			b = avroString(avroString(b, k), m[k])
		}
	}
	return avroLong(b, 0)
}

// avroScalarMap writes a map<union{null,boolean,long,double,string}>.
func avroScalarMap(b []byte, m map[string]any) ([]byte, error) {
	if len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = avroLong(b, int64(len(m)))
		for _, k := range keys {
			b = avroString(b, k)
			var err error
			if b, err = avroScalar(b, m[k]); err != nil { // scalar's conversions
				return nil, err
			}
		}
	}
	return avroLong(b, 0), nil
}
