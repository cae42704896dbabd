package value

import (
	"math"
	"strconv"
	"strings"
)

// maxExact is the largest integer a float64 holds exactly (2^53).
const maxExact = 1 << 53

// maxDecimals bounds the decimal places a scale is tracked with; a ratio with
// more (1/3 written out) is applied in plain floating point instead.
const maxDecimals = 15

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// Scale applies value = raw × ratio + addition so that the result is exact:
// ratio and addition are held as integers over a common power of ten, the
// product is computed in integers and divided once, which yields the float64
// nearest to the decimal result. A Scale is immutable and safe to share.
type Scale struct {
	ratio, addition float64
	mul, add        int64   // ratio and addition × 10^decimals
	div             float64 // 10^decimals
	decimals        int
	isInt           bool // result is always integral: mul, add integers and div 1
	exact           bool // mul/add valid; otherwise plain float math
}

// NewScale returns the Scale for ratio and addition. A ratio of 0 means 1
// (exports leave it at 0 for unscaled points).
func NewScale(ratio, addition float64) Scale {
	if ratio == 0 {
		ratio = 1
	}
	s := Scale{ratio: ratio, addition: addition}
	dr, da := decimals(ratio), decimals(addition)
	d := max(dr, da)
	if dr < 0 || da < 0 || math.IsNaN(ratio) || math.IsInf(ratio, 0) || math.IsNaN(addition) || math.IsInf(addition, 0) {
		return s
	}
	mul := math.Round(ratio * pow10[d])
	add := math.Round(addition * pow10[d])
	if math.Abs(mul) >= maxExact || math.Abs(add) >= maxExact {
		return s
	}
	s.mul, s.add, s.div, s.decimals, s.exact = int64(mul), int64(add), pow10[d], d, true
	s.isInt = d == 0
	return s
}

// decimals counts the decimal places of f's shortest representation, or -1
// when there are more than maxDecimals.
func decimals(f float64) int {
	str := strconv.FormatFloat(f, 'f', -1, 64)
	i := strings.IndexByte(str, '.')
	if i < 0 {
		return 0
	}
	if n := len(str) - i - 1; n <= maxDecimals {
		return n
	}
	return -1
}

// Ratio and Addition return the parameters the Scale was built from.
func (s Scale) Ratio() float64 { return s.ratio }

// Addition returns the additive term.
func (s Scale) Addition() float64 { return s.addition }

// Decimals returns how many decimal places results carry (0 for integers).
func (s Scale) Decimals() int { return s.decimals }

// Integral reports whether every result is an integer, so Apply returns Int.
func (s Scale) Integral() bool { return s.isInt }

// Apply scales an unsigned raw value (at most 64 bits).
func (s Scale) Apply(raw uint64) Value {
	if s.exact && raw < maxExact/uint64(max(absInt(s.mul), 1)) {
		n := int64(raw)*s.mul + s.add
		if s.isInt {
			return OfInt(n)
		}
		if n < maxExact && n > -maxExact {
			return OfFloat(float64(n) / s.div)
		}
	}
	if s.isInt && s.mul == 1 && raw <= math.MaxInt64 && (s.add <= 0 || raw <= uint64(math.MaxInt64-s.add)) {
		return OfInt(int64(raw) + s.add)
	}
	return OfFloat(s.round(float64(raw)*s.ratio + s.addition))
}

// ApplySigned scales a signed raw value.
func (s Scale) ApplySigned(raw int64) Value {
	if raw >= 0 {
		return s.Apply(uint64(raw))
	}
	if s.exact && raw > -maxExact/max(absInt(s.mul), 1) {
		n := raw*s.mul + s.add
		if s.isInt {
			return OfInt(n)
		}
		if n < maxExact && n > -maxExact {
			return OfFloat(float64(n) / s.div)
		}
	}
	if s.isInt && s.mul == 1 && (s.add >= 0 || raw >= math.MinInt64-s.add) && (s.add <= 0 || raw <= math.MaxInt64-s.add) {
		return OfInt(raw + s.add)
	}
	return OfFloat(s.round(float64(raw)*s.ratio + s.addition))
}

// ApplyFloat scales a floating-point raw value; the result is rounded to the
// scale's decimals when the scale is not the identity.
func (s Scale) ApplyFloat(raw float64) Value {
	if s.ratio == 1 && s.addition == 0 {
		return OfFloat(raw)
	}
	return OfFloat(s.round(raw*s.ratio + s.addition))
}

// Round rounds f to the scale's decimals when they are known, so a value that
// arrives already scaled (a key/value status) is typed like a decoded one.
func (s Scale) Round(f float64) float64 { return s.round(f) }

func (s Scale) round(f float64) float64 {
	if !s.exact || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= maxExact/s.div {
		return f
	}
	return math.Round(f*s.div) / s.div
}

// Unapply inverts the scale: the raw value whose result is nearest to v.
func (s Scale) Unapply(v float64) float64 {
	if s.exact {
		// Work in the scaled integer domain so 230.5 with ratio 0.1 is 2305
		// exactly, not 2304.9999999999995.
		return math.Round((math.Round(v*s.div) - float64(s.add)) / float64(s.mul))
	}
	return math.Round((v - s.addition) / s.ratio)
}

func absInt(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}
