package records

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/segmentio/kafka-go"
)

func randomTelemetry(rng *rand.Rand) *DeviceTelemetry {
	str := func() string { return strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(40)) }
	t := &DeviceTelemetry{
		EventID: str(), ProductKey: str(), DID: str(), MAC: str(),
		Time: time.UnixMilli(rng.Int64N(1 << 42)).UTC(), ReceivedAt: time.UnixMilli(-rng.Int64N(1 << 40)).UTC(),
		Source: str(), Codec: str(), Kind: str(),
	}
	for i := rng.IntN(12); i > 0; i-- {
		vals := []any{nil, true, false, rng.Int64() - rng.Int64(), int(rng.Int32()), uint64(math.MaxInt64) + rng.Uint64N(1<<62),
			rng.Uint64N(1 << 62), uint8(rng.IntN(256)), uint16(rng.IntN(1 << 16)), rng.Uint32(), rng.Int32(),
			rng.NormFloat64() * 1e6, float32(rng.NormFloat64()), str()}
		t.Points = append(t.Points, DataPoint{Name: fmt.Sprint("p", i), Value: vals[rng.IntN(len(vals))]})
	}
	return t
}

// telemetryGoavro is what Marshal wrote before the fast path.
func telemetryGoavro(c *Codec, t *DeviceTelemetry) ([]byte, error) {
	n, err := t.toNative()
	if err != nil {
		return nil, err
	}
	return c.reg.Encode(nil, "DeviceTelemetry", n)
}

// TestFastDeviceTelemetryEncoding checks the hand-written encoder against
// goavro on random records: the same bytes (a record has no maps, so the
// encoding is unique).
func TestFastDeviceTelemetryEncoding(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	if !c.fastTelemetry {
		t.Skip("DeviceTelemetry has a newer version than v1: the fast encoder is off (write one for the new version)")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 3000; i++ {
		tel := randomTelemetry(rng)
		fast, err := c.Marshal(tel)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := telemetryGoavro(c, tel)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("record %d: fast and goavro encodings differ\n%+v\nfast %x\nslow %x", i, tel, fast, slow)
		}
	}
	_, err = c.Marshal(&DeviceTelemetry{Points: []DataPoint{{Name: "x", Value: []int{1}}}})
	if err == nil || !strings.Contains(err.Error(), `point "x"`) {
		t.Fatalf("unsupported point value: err = %v, want one naming the point", err)
	}
}

// sameEvent compares two decoded events; NaN doubles compare by their
// encoding.
func sameEvent(a, b *SnotiEvent) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	x, err1 := appendSnotiEventV1(nil, 0, a)
	y, err2 := appendSnotiEventV1(nil, 0, b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y) &&
		(a.KV == nil) == (b.KV == nil) && (a.Attributes == nil) == (b.Attributes == nil)
}

// checkSnotiEventDecoding decodes b with Unmarshal (the fast path for v1)
// and with goavro alone, and fails when they disagree on the error or the
// record.
func checkSnotiEventDecoding(t *testing.T, c *Codec, b []byte) {
	t.Helper()
	var fast, slow SnotiEvent
	errFast := c.Unmarshal(b, &fast)
	errSlow := c.unmarshalGeneric(b, &slow)
	if (errFast == nil) != (errSlow == nil) {
		t.Fatalf("fast error %v, goavro error %v\ninput %x", errFast, errSlow, b)
	}
	if errSlow == nil && !sameEvent(&fast, &slow) {
		t.Fatalf("decodings differ\nfast   %+v\ngoavro %+v\ninput %x", fast, slow, b)
	}
	var typed SnotiEvent
	errTyped := c.UnmarshalSnotiEvent(b, &typed)
	if fmt.Sprint(errTyped) != fmt.Sprint(errFast) || (errFast == nil && !sameEvent(&typed, &fast)) {
		t.Fatalf("UnmarshalSnotiEvent %+v, %v; Unmarshal %+v, %v\ninput %x", typed, errTyped, fast, errFast, b)
	}
}

// TestFastSnotiEventDecoding checks the hand-written decoder against goavro
// on random records, written by both encoders, and on every truncation and
// some corruptions of them (which must fail, or decode, as goavro does).
func TestFastSnotiEventDecoding(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 2000; i++ {
		e := randomEvent(rng)
		fast, err := appendSnotiEventV1(nil, snotiEventV1Fingerprint, e)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := e.toNative()
		slow, err := c.reg.Encode(nil, "SnotiEvent", n)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{fast, slow} {
			var got SnotiEvent
			if !decodeSnotiEventV1(b[10:], &got) {
				t.Fatalf("event %d: the fast decoder left a valid record to goavro: %x", i, b)
			}
			checkSnotiEventDecoding(t, c, b)
		}
		checkSnotiEventDecoding(t, c, fast[:rng.IntN(len(fast))])
		bad := bytes.Clone(fast)
		bad[10+rng.IntN(len(bad)-10)] ^= byte(1 + rng.IntN(255))
		checkSnotiEventDecoding(t, c, bad)
	}
}

// TestFastSnotiEventDecodingFallsBack: records the fast decoder leaves to
// goavro (negative block counts, another fingerprint) still decode.
func TestFastSnotiEventDecodingFallsBack(t *testing.T) {
	c, _ := NewCodec()
	e := &SnotiEvent{EventID: "e", EventType: "device_status_kv", KV: map[string]any{"a": int64(1)}, RawJSON: "{}"}
	b, _ := appendSnotiEventV1(nil, snotiEventV1Fingerprint, e)
	// The kv map written as one block of count -1 and byte size 3.
	i := bytes.Index(b, []byte{2, 2, 2, 'a', 4, 2, 0})
	if i < 0 {
		t.Fatalf("kv block not found in %x", b)
	}
	neg := append(append(bytes.Clone(b[:i+1]), 1, 8), b[i+2:]...)
	var got SnotiEvent
	if decodeSnotiEventV1(neg[10:], &got) {
		t.Fatal("fast decoder took a negative block count")
	}
	if err := c.Unmarshal(neg, &got); err != nil || got.KV["a"] != int64(1) {
		t.Fatalf("Unmarshal = %v, %+v", err, got.KV)
	}
	checkSnotiEventDecoding(t, c, neg)
}

// FuzzSnotiEventDecoding compares the fast decoder with goavro on any
// input after a SnotiEvent.v1 header. Seeds: testdata/fuzz.
func FuzzSnotiEventDecoding(f *testing.F) {
	c, err := NewCodec()
	if err != nil {
		f.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 8; i++ {
		b, _ := appendSnotiEventV1(nil, snotiEventV1Fingerprint, randomEvent(rng))
		f.Add(b[10:])
	}
	hdr, _ := appendSnotiEventV1(nil, snotiEventV1Fingerprint, &SnotiEvent{})
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSnotiEventDecoding(t, c, append(bytes.Clone(hdr[:10]), body...))
	})
}

// FuzzDeviceTelemetryEncoding compares the fast encoder with goavro on
// records built from the fuzzer's input.
func FuzzDeviceTelemetryEncoding(f *testing.F) {
	c, err := NewCodec()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("e1", "pk", "did", int64(1700000000123), "p", int64(-5), 2.5, "s", uint64(1<<63), byte(3))
	f.Add("", "", "", int64(-1), "", int64(0), math.Inf(-1), "", uint64(0), byte(0))
	f.Fuzz(func(t *testing.T, id, pk, did string, ms int64, name string, l int64, d float64, s string, u uint64, mask byte) {
		tel := &DeviceTelemetry{EventID: id, ProductKey: pk, DID: did, MAC: s, Time: time.UnixMilli(ms), ReceivedAt: time.UnixMilli(-ms),
			Source: name, Codec: s, Kind: id}
		vals := []any{nil, mask&1 == 1, l, d, s, u, int(l), int32(l), uint32(u), uint16(u), uint8(u), float32(d)}
		for i, v := range vals {
			if mask&(1<<(i%8)) != 0 || i%3 == 0 {
				tel.Points = append(tel.Points, DataPoint{Name: name + fmt.Sprint(i), Value: v})
			}
		}
		fast, err := c.Marshal(tel)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := telemetryGoavro(c, tel)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, slow) {
			t.Fatalf("fast %x\ngoavro %x", fast, slow)
		}
	})
}

// TestBatchMessages: messages built in one Batch are those Message builds
// alone, and stay so when another is appended to.
func TestBatchMessages(t *testing.T) {
	c, _ := NewCodec()
	rng := rand.New(rand.NewPCG(11, 12))
	var recs []Record
	for i := 0; i < 300; i++ {
		switch i % 3 {
		case 0:
			recs = append(recs, randomEvent(rng))
		case 1:
			recs = append(recs, randomTelemetry(rng))
		default:
			id := fmt.Sprint("e", i)
			recs = append(recs, &DeadLetter{EventID: &id, Reason: "bad", Stage: "decoder", Value: []byte{1, 2}, Headers: map[string]string{"product_key": "pk"}})
		}
	}
	batch := c.NewBatch(2) // too small: it must grow
	var got []kafka.Message
	for i, r := range recs {
		m, err := batch.Message("t", []byte(fmt.Sprint(i)), r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	for i := range got {
		got[i].Value = append(got[i].Value, 0xff)
		got[i].Headers = append(got[i].Headers, kafka.Header{Key: "x"})
		for j := range got[i].Headers {
			got[i].Headers[j].Value = append(got[i].Headers[j].Value, 'x')
		}
	}
	for i, r := range recs {
		want, err := c.Message("t", []byte(fmt.Sprint(i)), r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[i].Value[:len(got[i].Value)-1], want.Value) || len(got[i].Headers) != len(want.Headers)+1 {
			t.Fatalf("message %d: batch %+v, alone %+v", i, got[i], want)
		}
		for j, h := range want.Headers {
			if g := got[i].Headers[j]; g.Key != h.Key || string(g.Value) != string(h.Value)+"x" {
				t.Fatalf("message %d header %d: batch %s=%q, alone %s=%q", i, j, g.Key, g.Value, h.Key, h.Value)
			}
		}
	}
}

// checkTelemetryDecoding decodes b with Unmarshal (the fast path for v1)
// and with goavro alone, and fails when they disagree.
func checkTelemetryDecoding(t *testing.T, c *Codec, b []byte) {
	t.Helper()
	var fast, slow DeviceTelemetry
	errFast := c.Unmarshal(b, &fast)
	errSlow := c.unmarshalGeneric(b, &slow)
	if (errFast == nil) != (errSlow == nil) {
		t.Fatalf("fast error %v, goavro error %v\ninput %x", errFast, errSlow, b)
	}
	if errSlow != nil || reflect.DeepEqual(fast, slow) {
		return
	}
	x, err1 := appendDeviceTelemetryV1(nil, 0, &fast)
	y, err2 := appendDeviceTelemetryV1(nil, 0, &slow)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) || (fast.Points == nil) != (slow.Points == nil) { // NaNs compare by encoding
		t.Fatalf("decodings differ\nfast   %+v\ngoavro %+v\ninput %x", fast, slow, b)
	}
}

// TestFastDeviceTelemetryDecoding checks the hand-written decoder against
// goavro on random records, every truncation and some corruptions.
func TestFastDeviceTelemetryDecoding(t *testing.T) {
	c, _ := NewCodec()
	rng := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 3000; i++ {
		b, err := c.Marshal(randomTelemetry(rng))
		if err != nil {
			t.Fatal(err)
		}
		var got DeviceTelemetry
		if !decodeDeviceTelemetryV1(b[10:], &got) {
			t.Fatalf("record %d: the fast decoder left a valid record to goavro: %x", i, b)
		}
		checkTelemetryDecoding(t, c, b)
		checkTelemetryDecoding(t, c, b[:rng.IntN(len(b))])
		bad := bytes.Clone(b)
		bad[10+rng.IntN(len(bad)-10)] ^= byte(1 + rng.IntN(255))
		checkTelemetryDecoding(t, c, bad)
	}
}

// FuzzDeviceTelemetryDecoding compares the fast decoder with goavro on any
// input after a DeviceTelemetry.v1 header. Seeds: testdata/fuzz.
func FuzzDeviceTelemetryDecoding(f *testing.F) {
	c, err := NewCodec()
	if err != nil {
		f.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 16))
	for i := 0; i < 8; i++ {
		b, _ := c.Marshal(randomTelemetry(rng))
		f.Add(b[10:])
	}
	hdr, _ := c.Marshal(&DeviceTelemetry{})
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTelemetryDecoding(t, c, append(bytes.Clone(hdr[:10]), body...))
	})
}

// A batch's chunks hold about its records' bytes, whatever its length,
// when its records are larger than NewBatch's guess (the ingest's are
// about 650 bytes): the chunks after the first are sized on the records
// built so far.
func TestBatchChunksFitTheRecords(t *testing.T) {
	c, _ := NewCodec()
	for _, n := range []int{1, 50, 300, 1000} {
		recs := make([]Record, n)
		for i := range recs {
			id := fmt.Sprintf("%064d", i)
			recs[i] = &SnotiEvent{EventID: id, EventType: "device_status_raw", ProductKey: strings.Repeat("p", 32), DID: "simdev0000000000000001",
				CreatedAt: time.UnixMilli(1700000000000).UTC(), ReceivedAt: time.UnixMilli(1700000000001).UTC(), Protocol: "v2", DeliveryID: fmt.Sprint(i),
				RawJSON: strings.Repeat("x", 300+i%200), Raw: bytes.Repeat([]byte{7}, 20)}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b := c.NewBatch(n)
		msgs := make([]kafka.Message, n)
		for i, r := range recs {
			var err error
			if msgs[i], err = b.Message("t", nil, r); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc - uint64(n)*uint64(unsafe.Sizeof(kafka.Message{}))
		used := 0 // the values and the header values of their own
		for _, m := range msgs {
			used += len(m.Value)
			for _, h := range m.Headers {
				if h.Key != "schema" {
					used += len(h.Value)
				}
			}
		}
		headers := uint64(cap(b.headers)) * uint64(unsafe.Sizeof(kafka.Header{}))
		if limit := uint64(used)*5/4 + headers + 1024; allocated > limit {
			t.Errorf("%d records of %d bytes in all: %d bytes allocated, want at most %d", n, used, allocated, limit)
		}
	}
}
