package records

import (
	"fmt"
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
		e := randomEvent(rng)
		fast, err := appendSnotiEventV1(nil, snotiEventV1Fingerprint, e)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.toNative()
		if err != nil {
			t.Fatal(err)
		}
		slow, err := c.reg.Encode(nil, "SnotiEvent", n)
		if err != nil {
			t.Fatal(err)
		}
		var fromFast, fromSlow SnotiEvent
		if err := c.Unmarshal(fast, &fromFast); err != nil {
			t.Fatalf("event %d: fast encoding does not decode: %v\n%+v", i, err, e)
		}
		if err := c.Unmarshal(slow, &fromSlow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromFast, fromSlow) {
			t.Fatalf("event %d differs:\nfast %+v\nslow %+v", i, fromFast, fromSlow)
		}
		if len(fast) != len(slow) {
			t.Fatalf("event %d: fast %d bytes, goavro %d", i, len(fast), len(slow))
		}
	}
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
