package gizwits_test

import (
	"encoding/hex"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// BenchmarkDecodeStandard decodes the ev-charger status frame (14 attrs, all
// data types, one binary) into a reused slice: the decoder's hot path.
func BenchmarkDecodeStandard(b *testing.B) {
	def := evCharger(b)
	raw, _ := hex.DecodeString("000000031a0000910403100509010627000030394b01020304050607080200")
	benchDecode(b, func(dst []value.Field) ([]value.Field, error) {
		m, err := def.DecodeAppend(dst, raw)
		return m.Fields, err
	})
}

// BenchmarkDecodeStandardNoBinary is the pH meter read reply with sn: no
// binary attr, so no allocation at all.
func BenchmarkDecodeStandardNoBinary(b *testing.B) {
	def := loadDefinition(b, "testdata/golden/ph-meter-worked-example.json")
	raw, _ := hex.DecodeString("000000031100009400000004030002dc089d00000000")
	benchDecode(b, func(dst []value.Field) ([]value.Field, error) {
		m, err := def.DecodeAppend(dst, raw)
		return m.Fields, err
	})
}

// BenchmarkDecodeVarLen decodes a full var_len status of the air purifier
// (11 attrs, two flag bytes, a two-byte bit segment, one binary).
func BenchmarkDecodeVarLen(b *testing.B) {
	def := loadDefinition(b, "testdata/golden/air-purifier-var-len.json")
	raw, err := def.EncodeStatus(map[string]any{
		"power": true, "mode": "manual", "fan_speed": 80, "pm25": 999, "temperature": -12.3,
		"humidity": 55, "filter_life": 87.5, "child_lock": true, "error_code": "fan",
		"alert_filter": false, "serial": "01020304",
	})
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, func(dst []value.Field) ([]value.Field, error) {
		m, err := def.DecodeAppend(dst, raw)
		return m.Fields, err
	})
}

func benchDecode(b *testing.B, decode func([]value.Field) ([]value.Field, error)) {
	buf := make([]value.Field, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		fields, err := decode(buf[:0])
		if err != nil || len(fields) == 0 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
}

func BenchmarkEncodeStatus(b *testing.B) {
	def := evCharger(b)
	values := evValues()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := def.EncodeStatus(values); err != nil {
			b.Fatal(err)
		}
	}
}
