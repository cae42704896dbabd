package value

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// FromJSON types a value as encoding/json produced it (bool, float64,
// json.Number, string) or as Go code built it (ints, uints, floats). A
// json.Number that is an integer becomes Int, other numbers Float; nested
// objects and arrays become their compact JSON text so nothing is dropped.
func FromJSON(x any) (Value, error) {
	switch t := x.(type) {
	case Value:
		return t, nil
	case bool:
		return OfBool(t), nil
	case string:
		return OfString(t), nil
	case float64:
		return OfFloat(t), nil
	case float32:
		return OfFloat(float64(t)), nil
	case int:
		return OfInt(int64(t)), nil
	case int8:
		return OfInt(int64(t)), nil
	case int16:
		return OfInt(int64(t)), nil
	case int32:
		return OfInt(int64(t)), nil
	case int64:
		return OfInt(t), nil
	case uint:
		return OfUint(uint64(t)), nil
	case uint8:
		return OfInt(int64(t)), nil
	case uint16:
		return OfInt(int64(t)), nil
	case uint32:
		return OfInt(int64(t)), nil
	case uint64:
		return OfUint(t), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return OfInt(i), nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return Value{}, fmt.Errorf("parsing number %q: %w", t, err)
		}
		return OfFloat(f), nil
	case nil:
		return Value{}, nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return Value{}, fmt.Errorf("encoding %T as JSON: %w", x, err)
	}
	return OfString(string(b)), nil
}

// Number returns x as float64 when it is a number of any Go or JSON kind.
func Number(x any) (float64, bool) {
	switch t := x.(type) {
	case Value:
		switch t.Kind() {
		case Int, Uint, Float:
			return t.Float(), true
		}
		return 0, false
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int8:
		return float64(t), true
	case int16:
		return float64(t), true
	case int32:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint:
		return float64(t), true
	case uint8:
		return float64(t), true
	case uint16:
		return float64(t), true
	case uint32:
		return float64(t), true
	case uint64:
		return float64(t), true
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		return f, err == nil
	}
	return 0, false
}
