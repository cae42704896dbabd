package records

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func randomEvent(rng *rand.Rand) *SnotiEvent {
	str := func() string { return strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(40)) }
	opt := func() *string {
		if rng.IntN(2) == 0 {
			return nil
		}
		s := str()
		return &s
	}
	optf := func() *float64 {
		if rng.IntN(2) == 0 {
			return nil
		}
		f := rng.NormFloat64() * 1e3
		return &f
	}
	e := &SnotiEvent{
		EventID: str(), EventType: str(), ProductKey: str(), DID: str(), MAC: str(), GroupID: opt(),
		CreatedAt: time.UnixMilli(rng.Int64N(1 << 42)).UTC(), ReceivedAt: time.UnixMilli(-rng.Int64N(1 << 40)).UTC(),
		Protocol: str(), DeliveryID: str(), MsgID: opt(), GizwitsEventID: opt(), RawJSON: str(),
	}
	switch rng.IntN(4) {
	case 0:
		e.Online = &OnlineInfo{IP: str(), Country: str(), Region: str(), City: str(), Latitude: optf(), Longitude: optf(), ICCID: opt(), IMSI: opt()}
	case 1:
		e.Attr = &AttrEvent{Name: str(), DisplayName: str(), Value: rng.Int64N(3) - 1}
	case 2:
		e.Raw = make([]byte, rng.IntN(300))
		for i := range e.Raw {
			e.Raw[i] = byte(rng.IntN(256))
		}
	case 3:
		e.KV = map[string]any{}
		for i := rng.IntN(6); i > 0; i-- {
			vals := []any{nil, true, false, rng.Int64() - rng.Int64(), rng.NormFloat64(), str()}
			e.KV[fmt.Sprint("k", i)] = vals[rng.IntN(len(vals))]
		}
	}
	if rng.IntN(2) == 0 {
		e.Attributes = map[string]string{"a": str(), "b": str()}
	}
	return e
}

// TestFastSnotiEventEncoding checks the hand-written encoder against goavro:
// what it writes decodes, with goavro and the v1 schema, to the same record
// that goavro's own encoding decodes to.
func TestFastSnotiEventEncoding(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	if !c.fastSnotiEvent {
		t.Skip("SnotiEvent has a newer version than v1: the fast encoder is off (write one for the new version)")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		checkSnotiEventEncoding(t, c, randomEvent(rng))
	}
}

// checkSnotiEventEncoding fails unless the fast encoding of e has the size
// of goavro's and decodes, with goavro alone, to what goavro's decodes to
// (the maps' entries may come in another order, so the bytes may differ).
func checkSnotiEventEncoding(t *testing.T, c *Codec, e *SnotiEvent) {
	t.Helper()
	fast, err := appendSnotiEventV1(nil, snotiEventV1Fingerprint, e)
	n, nerr := e.toNative()
	if (err == nil) != (nerr == nil) {
		t.Fatalf("fast error %v, goavro's native form error %v\n%+v", err, nerr, e)
	}
	if err != nil {
		return
	}
	slow, err := c.reg.Encode(nil, "SnotiEvent", n)
	if err != nil {
		t.Fatal(err)
	}
	var fromFast, fromSlow SnotiEvent
	if err := c.unmarshalGeneric(fast, &fromFast); err != nil {
		t.Fatalf("fast encoding does not decode: %v\n%+v", err, e)
	}
	if err := c.unmarshalGeneric(slow, &fromSlow); err != nil {
		t.Fatal(err)
	}
	if !sameEvent(&fromFast, &fromSlow) {
		t.Fatalf("decoded events differ:\nfast %+v\nslow %+v", fromFast, fromSlow)
	}
	if len(fast) != len(slow) {
		t.Fatalf("fast %d bytes, goavro %d\n%+v", len(fast), len(slow), e)
	}
}

// FuzzSnotiEventEncoding compares the fast encoder with goavro on events
// built from the fuzzer's input.
func FuzzSnotiEventEncoding(f *testing.F) {
	c, err := NewCodec()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("e1", "device_status_kv", "pk", int64(1700000000123), []byte{1, 2}, "k", int64(-5), 2.5, byte(0xff))
	f.Add("", "", "", int64(-1), []byte(nil), "", int64(0), math.NaN(), byte(0))
	f.Fuzz(func(t *testing.T, id, typ, s string, ms int64, raw []byte, key string, l int64, d float64, mask byte) {
		opt := func(bit int) *string {
			if mask&(1<<bit) == 0 {
				return nil
			}
			return &s
		}
		e := &SnotiEvent{EventID: id, EventType: typ, ProductKey: s, DID: key, MAC: s, GroupID: opt(0),
			CreatedAt: time.UnixMilli(ms), ReceivedAt: time.UnixMilli(-ms), Protocol: typ, DeliveryID: id,
			MsgID: opt(1), GizwitsEventID: opt(2), Raw: raw, RawJSON: s}
		switch mask >> 6 {
		case 0:
			lat := d
			e.Online = &OnlineInfo{IP: s, Country: key, Region: id, City: typ, Latitude: &lat, ICCID: opt(3), IMSI: opt(4)}
		case 1:
			e.Attr = &AttrEvent{Name: key, DisplayName: s, Value: l}
		case 2:
			e.KV = map[string]any{key: l, key + "d": d, key + "s": s, key + "b": mask&1 == 1, key + "n": nil, key + "u": uint64(l)}
		}
		if mask&(1<<5) != 0 {
			e.Attributes = map[string]string{key: s, s + "!": id}
		}
		checkSnotiEventEncoding(t, c, e)
	})
}

func BenchmarkMarshalSnotiEvent(b *testing.B) {
	c, _ := NewCodec()
	e := randomEvent(rand.New(rand.NewPCG(1, 1)))
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = appendSnotiEventV1(nil, snotiEventV1Fingerprint, e)
		}
	})
	b.Run("goavro", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n, _ := e.toNative()
			_, _ = c.reg.Encode(nil, "SnotiEvent", n)
		}
	})
}

// TestEventMessage: EventMessage of an event and its line is Message of
// the event with the line as its RawJSON (the same record and headers),
// on the fast path and on the generic one (as after a schema change).
func TestEventMessage(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	slowCodec := *c
	slowCodec.fastSnotiEvent = false
	rng := rand.New(rand.NewPCG(31, 32))
	for i := 0; i < 2000; i++ {
		e := randomEvent(rng)
		raw := []byte(e.RawJSON)
		if i%7 == 0 {
			raw = nil
		}
		e.RawJSON = string(raw)
		want, err := c.Message("topic", []byte("k"), e)
		if err != nil {
			t.Fatal(err)
		}
		e.RawJSON = ""
		for _, codec := range []*Codec{c, &slowCodec} {
			got, err := codec.NewBatch(1).EventMessage("topic", []byte("k"), e, raw)
			if err != nil {
				t.Fatal(err)
			}
			var gotEvent, wantEvent SnotiEvent
			if err := c.Unmarshal(got.Value, &gotEvent); err != nil {
				t.Fatal(err)
			}
			if err := c.Unmarshal(want.Value, &wantEvent); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotEvent, wantEvent) || len(got.Value) != len(want.Value) || !reflect.DeepEqual(got.Headers, want.Headers) {
				t.Fatalf("EventMessage %+v\nMessage      %+v", got, want)
			}
		}
	}
	if _, err := c.NewBatch(1).EventMessage("", nil, &SnotiEvent{RawJSON: "{}"}, []byte("{}")); err == nil {
		t.Fatal("EventMessage of an event that has RawJSON: no error")
	}
}
