package devcodec_test

import (
	"encoding/hex"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// BenchmarkDecode decodes the heat meter's measurement message (8 fields:
// scaled ints, enum, bit fields, bytes, ascii) into a reused slice.
func BenchmarkDecode(b *testing.B) {
	c := loadCodec(b, "testdata/golden/heat-meter.json")
	raw, _ := hex.DecodeString("01ff854e61bc001035a1b2c3d4484d2d3200000000")
	buf := make([]value.Field, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DecodeAppend(buf[:0], raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}
