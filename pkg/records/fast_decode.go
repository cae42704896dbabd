package records

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/linkedin/goavro/v2"
)

// avroReader decodes Avro binary datums the way goavro does, without its
// intermediate maps. Anything it is not sure of (a negative block count,
// a duplicate map key, an over-long varint, a bad union index) sets bad:
// the caller then decodes the record with goavro instead, so the fast path
// never accepts what goavro rejects, nor decodes it differently.
//
// Strings are substrings of one copy of the datum (str), so a record
// costs one allocation for all its text; bytes alias the input, as goavro's
// do. A field kept long after the record (a cache key, say) keeps that whole
// copy alive: strings.Clone what outlives the record.
type avroReader struct {
	b   []byte
	str string // string(b) of the whole datum
	off int
	bad bool
}

func (r *avroReader) long() int64 {
	var v uint64
	for i, shift := r.off, uint(0); i < len(r.b) && shift < 64; i, shift = i+1, shift+7 {
		c := r.b[i]
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			r.off = i + 1
			return int64(v>>1) ^ -int64(v&1)
		}
	}
	r.bad = true
	return 0
}

func (r *avroReader) span() (int, int) {
	n := r.long()
	if r.bad || n < 0 || n > int64(len(r.b)-r.off) {
		r.bad = true
		return 0, 0
	}
	i := r.off
	r.off += int(n)
	return i, r.off
}

func (r *avroReader) string() string {
	i, j := r.span()
	return r.str[i:j]
}

func (r *avroReader) bytes() []byte {
	i, j := r.span()
	if r.bad {
		return nil
	}
	return r.b[i:j:j]
}

func (r *avroReader) double() float64 {
	if len(r.b)-r.off < 8 {
		r.bad = true
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
	r.off += 8
	return v
}

// branch reads a union index, which must be below n.
func (r *avroReader) branch(n int64) int64 {
	i := r.long()
	if i < 0 || i >= n {
		r.bad = true
		return 0
	}
	return i
}

func (r *avroReader) millis() time.Time {
	ms := r.long()
	s := ms / 1e3
	return time.Unix(s, (ms-s*1e3)*1e6).UTC()
}

func (r *avroReader) optString() *string {
	if r.branch(2) == 0 {
		return nil
	}
	s := r.string()
	return &s
}

func (r *avroReader) optDouble() *float64 {
	if r.branch(2) == 0 {
		return nil
	}
	d := r.double()
	return &d
}

// blockCount reads a map block count; negative ones (followed by a byte
// size) are rare enough to leave to goavro.
func (r *avroReader) blockCount() int {
	n := r.long()
	if n < 0 || n > int64(goavro.MaxBlockCount) {
		r.bad = true
		return 0
	}
	return int(n)
}

// scalar reads a union{null, boolean, long, double, string}.
func (r *avroReader) scalar() any {
	switch r.branch(5) {
	case 1:
		if r.off >= len(r.b) || r.b[r.off] > 1 {
			r.bad = true
			return nil
		}
		r.off++
		return r.b[r.off-1] == 1
	case 2:
		return r.long()
	case 3:
		return r.double()
	case 4:
		return r.string()
	}
	return nil
}

// decodeSnotiEventV1 decodes a SnotiEvent.v1 datum (after the 10-byte
// single-object header) into e exactly as Unmarshal's goavro path would,
// or returns false to leave the record to goavro.
func decodeSnotiEventV1(body []byte, e *SnotiEvent) bool {
	r := &avroReader{b: body, str: string(body)}
	*e = SnotiEvent{
		EventID:    r.string(),
		EventType:  r.string(),
		ProductKey: r.string(),
		DID:        r.string(),
		MAC:        r.string(),
		GroupID:    r.optString(),
		CreatedAt:  r.millis(),
		ReceivedAt: r.millis(),
		Protocol:   r.string(),
		DeliveryID: r.string(),
	}
	e.MsgID = r.optString()
	e.GizwitsEventID = r.optString()
	if r.branch(2) == 1 {
		o := &OnlineInfo{IP: r.string(), Country: r.string(), Region: r.string(), City: r.string()}
		o.Latitude = r.optDouble()
		o.Longitude = r.optDouble()
		o.ICCID = r.optString()
		o.IMSI = r.optString()
		e.Online = o
	}
	if r.branch(2) == 1 {
		e.Attr = &AttrEvent{Name: r.string(), DisplayName: r.string(), Value: r.long()}
	}
	if r.branch(2) == 1 {
		e.Raw = r.bytes()
	}
	if r.branch(2) == 1 {
		e.KV = map[string]any{}
		for n := r.blockCount(); n > 0 && !r.bad; n = r.blockCount() {
			for ; n > 0 && !r.bad; n-- {
				k := r.string()
				if _, dup := e.KV[k]; dup {
					return false
				}
				e.KV[k] = r.scalar()
			}
		}
	}
	for n := r.blockCount(); n > 0 && !r.bad; n = r.blockCount() {
		if e.Attributes == nil {
			e.Attributes = make(map[string]string, n)
		}
		for ; n > 0 && !r.bad; n-- {
			k := r.string()
			if _, dup := e.Attributes[k]; dup {
				return false
			}
			e.Attributes[k] = r.string()
		}
	}
	e.RawJSON = r.string()
	return !r.bad && r.off == len(body)
}

// decodeDeviceTelemetryV1 decodes a DeviceTelemetry.v1 datum (after the
// single-object header) into t exactly as Unmarshal's goavro path would,
// or returns false to leave the record to goavro.
func decodeDeviceTelemetryV1(body []byte, t *DeviceTelemetry) bool {
	r := &avroReader{b: body, str: string(body)}
	*t = DeviceTelemetry{
		EventID:    r.string(),
		ProductKey: r.string(),
		DID:        r.string(),
		MAC:        r.string(),
		Time:       r.millis(),
		ReceivedAt: r.millis(),
		Source:     r.string(),
		Codec:      r.string(),
		Kind:       r.string(),
	}
	n := r.blockCount()
	if n > len(body)-r.off { // a point takes two bytes at least
		return false
	}
	t.Points = make([]DataPoint, 0, n)
	for ; n > 0 && !r.bad; n = r.blockCount() {
		for ; n > 0 && !r.bad; n-- {
			name := r.string()
			t.Points = append(t.Points, DataPoint{Name: name, Value: r.scalar()})
		}
	}
	return !r.bad && r.off == len(body)
}
