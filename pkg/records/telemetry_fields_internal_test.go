package records

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/value"
)

func randomFields(rng *rand.Rand) []value.Field {
	var fields []value.Field
	for i := rng.IntN(12); i > 0; i-- {
		vals := []value.Value{{}, value.OfBool(true), value.OfBool(false), value.OfInt(rng.Int64() - rng.Int64()),
			value.OfInt(int64(rng.IntN(256))), value.OfUint(rng.Uint64N(1 << 62)), value.OfUint(uint64(math.MaxInt64) + rng.Uint64N(1<<62)),
			value.OfUint(math.MaxUint64), value.OfFloat(rng.NormFloat64() * 1e6), value.OfFloat(math.NaN()), value.OfFloat(math.Inf(1)),
			value.OfString(strings.Repeat("é", rng.IntN(20)))}
		fields = append(fields, value.Field{Name: fmt.Sprint("p", i), Value: vals[rng.IntN(len(vals))]})
	}
	return fields
}

// checkTelemetryMessage compares TelemetryMessage of t and fields with
// Message of t with the points {f.Name, f.Value.Any()} and with goavro's
// encoding of the same record: the same value and headers.
func checkTelemetryMessage(t *testing.T, c *Codec, tel *DeviceTelemetry, fields []value.Field) {
	t.Helper()
	got, err := c.NewBatch(1).TelemetryMessage("topic", []byte("k"), tel, fields)
	if err != nil {
		t.Fatal(err)
	}
	boxed := *tel
	for _, f := range fields {
		boxed.Points = append(boxed.Points, DataPoint{Name: f.Name, Value: f.Value.Any()})
	}
	want, err := c.Message("topic", []byte("k"), &boxed)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := telemetryGoavro(c, &boxed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Value, want.Value) || !bytes.Equal(got.Value, slow) {
		t.Fatalf("encodings differ for %+v\nfields  %x\npoints  %x\ngoavro  %x", fields, got.Value, want.Value, slow)
	}
	if got.Topic != want.Topic || string(got.Key) != string(want.Key) || len(got.Headers) != len(want.Headers) {
		t.Fatalf("messages differ: fields %+v, points %+v", got, want)
	}
	for i, h := range want.Headers {
		if got.Headers[i].Key != h.Key || !bytes.Equal(got.Headers[i].Value, h.Value) {
			t.Fatalf("header %d: fields %s=%q, points %s=%q", i, got.Headers[i].Key, got.Headers[i].Value, h.Key, h.Value)
		}
	}
}

// TestTelemetryMessage checks the unboxed encoder against the boxed one
// and goavro on random records.
func TestTelemetryMessage(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 3000; i++ {
		tel := randomTelemetry(rng)
		tel.Points = nil
		checkTelemetryMessage(t, c, tel, randomFields(rng))
	}
	checkTelemetryMessage(t, c, &DeviceTelemetry{}, nil)
	if _, err := c.NewBatch(1).TelemetryMessage("", nil, &DeviceTelemetry{Points: []DataPoint{{Name: "x"}}}, nil); err == nil {
		t.Fatal("TelemetryMessage of a record with Points: no error")
	}
	// With the fast path off (as after a schema change), the generic
	// path writes the same bytes.
	slowCodec := *c
	slowCodec.fastTelemetry = false
	for i := 0; i < 200; i++ {
		tel := randomTelemetry(rng)
		tel.Points = nil
		fields := randomFields(rng)
		got, err := slowCodec.NewBatch(1).TelemetryMessage("", nil, tel, fields)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := c.NewBatch(1).TelemetryMessage("", nil, tel, fields)
		if !bytes.Equal(got.Value, want.Value) {
			t.Fatalf("generic %x\nfast    %x", got.Value, want.Value)
		}
	}
}

// FuzzTelemetryMessage compares the unboxed encoder with the boxed one and
// goavro on records built from the fuzzer's input.
func FuzzTelemetryMessage(f *testing.F) {
	c, err := NewCodec()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("e1", "did", "p", int64(-5), 2.5, "s", uint64(1<<63), byte(3), uint16(0xffff))
	f.Add("", "", "", int64(0), math.Inf(-1), "", uint64(0), byte(0), uint16(0))
	f.Fuzz(func(t *testing.T, id, did, name string, l int64, d float64, s string, u uint64, flag byte, mask uint16) {
		tel := &DeviceTelemetry{EventID: id, DID: did, ProductKey: s, Source: name}
		vals := []value.Value{{}, value.OfBool(flag&1 == 1), value.OfInt(l), value.OfUint(u), value.OfFloat(d), value.OfString(s)}
		var fields []value.Field
		for i := 0; i < 16; i++ {
			if mask&(1<<i) != 0 {
				fields = append(fields, value.Field{Name: name + fmt.Sprint(i), Value: vals[(i+int(flag))%len(vals)]})
			}
		}
		checkTelemetryMessage(t, c, tel, fields)
	})
}
