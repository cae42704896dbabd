package devcodec

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// fieldJSON is a field as written in a spec.
type fieldJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Offset      *int            `json:"offset"`
	Length      int             `json:"length"`
	Type        string          `json:"type"`
	ByteOrder   string          `json:"byte_order"`
	Bit         int             `json:"bit"`
	Bits        int             `json:"bits"`
	Scale       *float64        `json:"scale"`
	Add         float64         `json:"add"`
	Enum        json.RawMessage `json:"enum"`
}

// typeInfo describes a field type: its fixed size (0 = given by length).
type typeInfo struct {
	size   int
	signed bool
	float  bool
}

var types = map[string]typeInfo{
	"u8": {size: 1}, "u16": {size: 2}, "u32": {size: 4}, "u64": {size: 8},
	"i8": {size: 1, signed: true}, "i16": {size: 2, signed: true}, "i32": {size: 4, signed: true}, "i64": {size: 8, signed: true},
	"f32": {size: 4, float: true}, "f64": {size: 8, float: true},
	"bits": {}, "bytes": {}, "ascii": {},
}

// field is a compiled field; read-only after Parse.
type field struct {
	name     string
	typ      string
	info     typeInfo
	offset   int
	length   int
	little   bool
	bit      int
	bits     int
	scale    value.Scale
	identity bool // scale 1, add 0
	enum     map[int64]string
}

// compileField checks one field, returning it and its problems.
func compileField(fj fieldJSON, defaultLittle bool) (field, []string) {
	var problems []string
	f := field{name: fj.Name, typ: fj.Type, length: fj.Length, little: defaultLittle, bit: fj.Bit, bits: fj.Bits}
	if fj.Name == "" {
		problems = append(problems, "name empty")
	}
	info, ok := types[fj.Type]
	if !ok {
		problems = append(problems, fmt.Sprintf("type %q unknown: want u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bits, bytes or ascii", fj.Type))
		return f, problems
	}
	f.info = info
	if fj.Offset == nil {
		problems = append(problems, "offset missing")
	} else if f.offset = *fj.Offset; f.offset < 0 {
		problems = append(problems, fmt.Sprintf("offset %d negative", f.offset))
	}
	switch fj.ByteOrder {
	case "":
	case "big":
		f.little = false
	case "little":
		f.little = true
	default:
		problems = append(problems, fmt.Sprintf("byte_order %q unknown: want big or little", fj.ByteOrder))
	}
	switch {
	case info.size > 0:
		if f.length == 0 {
			f.length = info.size
		} else if f.length != info.size {
			problems = append(problems, fmt.Sprintf("length %d invalid for %s: want %d or leave it out", f.length, fj.Type, info.size))
		}
	case fj.Type == "bits":
		if f.length == 0 {
			f.length = 1
		}
		if f.bits == 0 {
			f.bits = 1
		}
		if f.length < 1 || f.length > 8 {
			problems = append(problems, fmt.Sprintf("length %d invalid for bits: want 1..8 bytes", f.length))
		} else if f.bit < 0 || f.bits < 1 || f.bit+f.bits > 8*f.length {
			problems = append(problems, fmt.Sprintf("bit %d bits %d do not fit %d byte(s)", f.bit, f.bits, f.length))
		}
	default: // bytes, ascii
		if f.length < 1 {
			problems = append(problems, fmt.Sprintf("length %d invalid for %s: want at least 1", f.length, fj.Type))
		}
	}
	if fj.Type != "bits" && (fj.Bit != 0 || fj.Bits != 0) {
		problems = append(problems, fmt.Sprintf("bit/bits only apply to type bits, not %s", fj.Type))
	}
	numeric := info.size > 0 || fj.Type == "bits"
	ratio := 1.0
	if fj.Scale != nil {
		ratio = *fj.Scale
	}
	if (fj.Scale != nil || fj.Add != 0) && !numeric {
		problems = append(problems, fmt.Sprintf("scale/add do not apply to %s", fj.Type))
	}
	if ratio == 0 || math.IsNaN(ratio) || math.IsInf(ratio, 0) || math.IsNaN(fj.Add) || math.IsInf(fj.Add, 0) {
		problems = append(problems, fmt.Sprintf("scale %v add %v invalid: scale must be a non-zero number", ratio, fj.Add))
	}
	f.scale = value.NewScale(ratio, fj.Add)
	f.identity = ratio == 1 && fj.Add == 0
	if len(fj.Enum) > 0 && string(fj.Enum) != "null" {
		switch {
		case !numeric || info.float:
			problems = append(problems, fmt.Sprintf("enum does not apply to %s", fj.Type))
		case !f.identity:
			problems = append(problems, "enum and scale/add exclude each other: labels index the raw value")
		default:
			enum, err := parseEnum(fj.Enum)
			if err != nil {
				problems = append(problems, err.Error())
			}
			f.enum = enum
		}
	}
	return f, problems
}

// parseEnum reads labels as a list (index → label) or an object whose keys
// are decimal or 0x-hex raw values.
func parseEnum(raw json.RawMessage) (map[int64]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		m := make(map[int64]string, len(list))
		for i, l := range list {
			m[int64(i)] = l
		}
		return m, nil
	}
	var obj map[string]string
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("enum: want a list of labels or an object of value → label")
	}
	m := make(map[int64]string, len(obj))
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n, err := parseInt(k)
		if err != nil {
			return nil, fmt.Errorf("enum key %q: want a decimal or 0x-hex integer", k)
		}
		m[n] = obj[k]
	}
	return m, nil
}

// parseInt reads a decimal or 0x-prefixed hex integer.
func parseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		return int64(u), err
	}
	return strconv.ParseInt(s, 10, 64)
}

// end is the offset just past the field.
func (f *field) end() int { return f.offset + f.length }

// readUint reads b as an unsigned integer in the field's byte order.
func readUint(b []byte, little bool) uint64 {
	var v uint64
	if little {
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v
	}
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// decode types the field's bytes; p holds at least f.end() bytes.
func (f *field) decode(p []byte) value.Value {
	b := p[f.offset:f.end()]
	switch f.typ {
	case "bytes":
		return value.OfString(hex.EncodeToString(b))
	case "ascii":
		s := strings.TrimRight(string(b), "\x00")
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		return value.OfString(s)
	case "f32":
		x := math.Float32frombits(uint32(readUint(b, f.little)))
		// The shortest decimal of the float32, so 1.1 stays 1.1.
		d, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			d = float64(x)
		}
		return f.scale.ApplyFloat(d)
	case "f64":
		return f.scale.ApplyFloat(math.Float64frombits(readUint(b, f.little)))
	case "bits":
		raw := readUint(b, f.little) >> f.bit
		if f.bits < 64 {
			raw &= 1<<f.bits - 1
		}
		if f.bits == 1 && f.enum == nil && f.identity {
			return value.OfBool(raw == 1)
		}
		return f.integer(raw, int64(raw))
	}
	raw := readUint(b, f.little)
	if f.info.signed {
		shift := 64 - 8*f.length
		return f.integer(raw, int64(raw<<shift)>>shift)
	}
	if f.length == 8 && f.identity && f.enum == nil {
		return value.OfUint(raw)
	}
	return f.integer(raw, int64(raw))
}

// integer types an integer raw value: label, or scaled number.
func (f *field) integer(raw uint64, signed int64) value.Value {
	if f.enum != nil {
		if l, ok := f.enum[signed]; ok {
			return value.OfString(l)
		}
		if f.info.signed {
			return value.OfString(strconv.FormatInt(signed, 10))
		}
		return value.OfString(strconv.FormatUint(raw, 10))
	}
	if f.info.signed {
		return f.scale.ApplySigned(signed)
	}
	return f.scale.Apply(raw)
}
