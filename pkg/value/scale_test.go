package value_test

import (
	"math"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/value"
)

func TestScale(t *testing.T) {
	tests := []struct {
		name            string
		ratio, addition float64
		raw             int64
		want            string // Kind:String()
	}{
		{name: "identity", ratio: 1, raw: 16, want: "int:16"},
		{name: "ratio 0 means 1", ratio: 0, raw: 16, want: "int:16"},
		{name: "integral addition", ratio: 1, addition: -40, raw: 75, want: "int:35"},
		{name: "0.1 × 2305 is 230.5", ratio: 0.1, raw: 2305, want: "float:230.5"},
		{name: "0.01 × 1575", ratio: 0.01, raw: 1575, want: "float:15.75"},
		{name: "0.001 × 12345", ratio: 0.001, raw: 12345, want: "float:12.345"},
		{name: "0.01 × 732", ratio: 0.01, raw: 732, want: "float:7.32"},
		{name: "0.1 with -40", ratio: 0.1, addition: -40, raw: 615, want: "float:21.5"},
		{name: "0.5 addition", ratio: 1, addition: 0.5, raw: 2, want: "float:2.5"},
		{name: "ratio 2", ratio: 2, raw: 3, want: "int:6"},
		{name: "negative raw", ratio: 0.1, raw: -123, want: "float:-12.3"},
		{name: "max uint32 × 0.001", ratio: 0.001, raw: math.MaxUint32, want: "float:4294967.295"},
		{name: "int64 beyond 2^53 unscaled", ratio: 1, raw: -9007199254740993, want: "int:-9007199254740993"},
		{name: "one third", ratio: 1.0 / 3, raw: 3, want: "float:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := value.NewScale(tt.ratio, tt.addition)
			v := s.ApplySigned(tt.raw)
			if got := v.Kind().String() + ":" + v.String(); got != tt.want {
				t.Fatalf("Apply(%d) = %s, want %s", tt.raw, got, tt.want)
			}
			if s.Integral() != (v.Kind() == value.Int) {
				t.Errorf("Integral() = %v for a %s result", s.Integral(), v.Kind())
			}
			if back := s.Unapply(v.Float()); back != float64(tt.raw) && math.Abs(float64(tt.raw)) < 1<<53 {
				t.Errorf("Unapply(%v) = %v, want %d", v.Float(), back, tt.raw)
			}
		})
	}
}

// TestScaleExhaustive checks every uint16 raw value for common ratios: the
// result prints as the exact decimal and inverts to the same raw value.
func TestScaleExhaustive(t *testing.T) {
	for _, r := range []float64{0.1, 0.01, 0.001, 0.05, 0.25, 1.5} {
		s := value.NewScale(r, -20)
		for raw := range uint64(1 << 16) {
			v := s.Apply(raw)
			if back := s.Unapply(v.Float()); back != float64(raw) {
				t.Fatalf("ratio %v raw %d: value %s inverts to %v", r, raw, v, back)
			}
			if len(v.String()) > 12 {
				t.Fatalf("ratio %v raw %d: %s is not a short decimal", r, raw, v)
			}
		}
	}
}

func TestValueAny(t *testing.T) {
	cases := []struct {
		v    value.Value
		want any
	}{
		{value.OfBool(true), true}, {value.OfInt(-3), int64(-3)}, {value.OfUint(math.MaxUint64), uint64(math.MaxUint64)},
		{value.OfFloat(1.5), 1.5}, {value.OfString("x"), "x"}, {value.Value{}, nil},
	}
	for _, c := range cases {
		if got := c.v.Any(); got != c.want {
			t.Errorf("%v.Any() = %#v, want %#v", c.v, got, c.want)
		}
	}
}
