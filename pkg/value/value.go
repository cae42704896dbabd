package value

import (
	"encoding/json"
	"math"
	"strconv"
)

// Kind says which member of a Value is set.
type Kind uint8

// The kinds a decoded value can have. The zero Value is Invalid.
const (
	Invalid Kind = iota
	Bool
	Int
	Uint
	Float
	String
)

var kindNames = [...]string{"invalid", "bool", "int", "uint", "float", "string"}

// String returns the lower-case name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one decoded value. It is a small comparable struct passed by value;
// numbers share one 64-bit word so a Value is 32 bytes.
type Value struct {
	kind Kind
	bits uint64 // bool (0/1), int64, uint64 or float64 bits
	str  string
}

// OfBool returns a Bool value.
func OfBool(b bool) Value {
	if b {
		return Value{kind: Bool, bits: 1}
	}
	return Value{kind: Bool}
}

// OfInt returns an Int value.
func OfInt(i int64) Value { return Value{kind: Int, bits: uint64(i)} }

// OfUint returns a Uint value; only 64-bit unsigned fields that do not fit an
// int64 need it.
func OfUint(u uint64) Value { return Value{kind: Uint, bits: u} }

// OfFloat returns a Float value.
func OfFloat(f float64) Value { return Value{kind: Float, bits: math.Float64bits(f)} }

// OfString returns a String value.
func OfString(s string) Value { return Value{kind: String, str: s} }

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

// Bool returns the boolean; false unless Kind is Bool.
func (v Value) Bool() bool { return v.kind == Bool && v.bits == 1 }

// Int returns the integer; 0 unless Kind is Int.
func (v Value) Int() int64 {
	if v.kind != Int {
		return 0
	}
	return int64(v.bits)
}

// Uint returns the unsigned integer; 0 unless Kind is Uint.
func (v Value) Uint() uint64 {
	if v.kind != Uint {
		return 0
	}
	return v.bits
}

// Float returns the number as float64 for any numeric kind, 0 otherwise.
func (v Value) Float() float64 {
	switch v.kind {
	case Float:
		return math.Float64frombits(v.bits)
	case Int:
		return float64(int64(v.bits))
	case Uint:
		return float64(v.bits)
	}
	return 0
}

// Str returns the string; "" unless Kind is String.
func (v Value) Str() string {
	if v.kind != String {
		return ""
	}
	return v.str
}

// Any returns v as bool, int64, uint64, float64 or string (nil when Invalid),
// the shapes encoding/json and Avro encoders expect.
func (v Value) Any() any {
	switch v.kind {
	case Bool:
		return v.Bool()
	case Int:
		return int64(v.bits)
	case Uint:
		return v.bits
	case Float:
		return math.Float64frombits(v.bits)
	case String:
		return v.str
	}
	return nil
}

// String formats v for logs and tests: numbers in their shortest exact form.
func (v Value) String() string {
	switch v.kind {
	case Bool:
		return strconv.FormatBool(v.Bool())
	case Int:
		return strconv.FormatInt(int64(v.bits), 10)
	case Uint:
		return strconv.FormatUint(v.bits, 10)
	case Float:
		return strconv.FormatFloat(math.Float64frombits(v.bits), 'f', -1, 64)
	case String:
		return v.str
	}
	return "<invalid>"
}

// MarshalJSON encodes v as the matching JSON scalar (null when Invalid).
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case Float:
		f := math.Float64frombits(v.bits)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return []byte("null"), nil
		}
		return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
	case Invalid:
		return []byte("null"), nil
	}
	return json.Marshal(v.Any())
}
