package codecs_test

import (
	"testing"
)

// BenchmarkDecode is the registry's path for a standard status: snapshot
// load, product lookup, frame, decode into a new field slice.
func BenchmarkDecode(b *testing.B) {
	r := open(b, "testdata/codecs")
	raw := mustHex(b, "000000031a0000910403100509010627000030394b01020304050607080200")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Decode(pkEV, raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}

// BenchmarkDecodeCustom decodes a transparent frame with a custom codec.
func BenchmarkDecodeCustom(b *testing.B) {
	r := open(b, "testdata/codecs")
	raw := mustHex(b, "000000031900009106"+heatMsg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Decode(pkHeat, raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}
