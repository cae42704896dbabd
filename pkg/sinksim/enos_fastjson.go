package sinksim

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// parsers are the fastjson parsers of fastDecode; each keeps its value
// tree's memory for the next message.
var parsers fastjson.ParserPool

// fastReader turns a message parsed by fastjson into a decodedMessage
// exactly as encoding/json.Unmarshal would decode it, without
// reflection: encoding/json's was most of the emulator's cost under load.
// fastjson is more lenient than encoding/json and unescapes differently,
// so the reader takes only what both read alike: strings without escapes
// (fastDecode leaves any message with a backslash to encoding/json), of
// valid UTF-8 without control characters; numbers of JSON's grammar,
// converted by strconv as encoding/json does (fastjson also takes NaN,
// Inf, "+1" and "01"); the field names exactly as the tags spell them
// (encoding/json also matches them case-insensitively), each once; no
// null where a field is not an any; nesting up to maxFastDepth. Anything
// else sets bad and the message is decoded by encoding/json instead, so
// the emulator never accepts, rejects or stores differently.
// TestFastDecodeAgreesWithEncodingJSON and its fuzz target check it.
type fastReader struct {
	bad   bool
	depth int
	// strs interns the message's strings: its entries repeat the same
	// point ids, devices and values, each a string (and an any) of its
	// own otherwise.
	strs map[string]interned
	// num is the text of the number being converted.
	num []byte
}

// maxFastDepth bounds the nesting of values the fast path follows.
const maxFastDepth = 64

// interned is one of a message's strings and, once it was the value of
// an any, that any.
type interned struct {
	s   string
	any any
}

// intern returns b as a string of the message's, the same each time b
// occurs (b is fastjson's, valid only until its parser's next message),
// or sets bad if encoding/json would not read it as is.
func (r *fastReader) intern(b []byte) interned {
	if in, ok := r.strs[string(b)]; ok {
		return in
	}
	if !r.readable(b) {
		return interned{}
	}
	in := interned{s: string(b)}
	if r.strs == nil {
		r.strs = make(map[string]interned)
	}
	r.strs[in.s] = in
	return in
}

// readable reports whether encoding/json reads the unescaped string b as
// is, or sets bad: no control character, valid UTF-8 (encoding/json
// replaces invalid bytes by U+FFFD).
func (r *fastReader) readable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			r.bad = true
			return false
		}
		if c >= utf8.RuneSelf {
			if !utf8.Valid(b) {
				r.bad = true
				return false
			}
			break
		}
	}
	return true
}

// plainStr reads a string without interning it: for a message whose
// strings do not repeat.
func (r *fastReader) plainStr(v *fastjson.Value) string {
	b, err := v.StringBytes()
	if err != nil || !r.readable(b) {
		r.bad = true
		return ""
	}
	return string(b)
}

// str reads a string.
func (r *fastReader) str(v *fastjson.Value) string {
	b, err := v.StringBytes()
	if err != nil {
		r.bad = true
		return ""
	}
	return r.intern(b).s
}

// anyStr reads a string as the value of an any, boxed once a message.
func (r *fastReader) anyStr(v *fastjson.Value) any {
	b, _ := v.StringBytes()
	in := r.intern(b)
	if in.any == nil && !r.bad {
		in.any = in.s
		r.strs[in.s] = in
	}
	return in.any
}

// number returns the text of a number (valid until the next call), or
// sets bad if it is not one of JSON's.
func (r *fastReader) number(v *fastjson.Value) []byte {
	if v.Type() != fastjson.TypeNumber {
		r.bad = true
		return nil
	}
	r.num = v.MarshalTo(r.num[:0])
	if !jsonNumber(r.num) {
		r.bad = true
		return nil
	}
	return r.num
}

// jsonNumber reports whether b is a number as JSON's grammar spells one.
func jsonNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// value reads any value as encoding/json decodes it into an any.
func (r *fastReader) value(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeString:
		return r.anyStr(v)
	case fastjson.TypeNumber:
		f, err := strconv.ParseFloat(string(r.number(v)), 64)
		if err != nil {
			r.bad = true
		}
		return f
	case fastjson.TypeObject:
		return r.object(v)
	case fastjson.TypeArray:
		if r.depth++; r.depth > maxFastDepth {
			r.bad = true
		}
		defer func() { r.depth-- }()
		a, _ := v.Array()
		out := make([]any, len(a))
		for i, e := range a {
			if r.bad {
				break
			}
			out[i] = r.value(e)
		}
		return out
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil // TypeNull
}

// members calls member with each of an object's members, or sets bad if
// v is not an object.
func (r *fastReader) members(v *fastjson.Value, member func(name []byte, v *fastjson.Value)) {
	o, err := v.Object()
	if err != nil {
		r.bad = true
		return
	}
	o.Visit(func(name []byte, v *fastjson.Value) {
		if !r.bad {
			member(name, v)
		}
	})
}

// object reads an object as a map[string]any. A name seen twice sets bad
// (encoding/json keeps the last value).
func (r *fastReader) object(v *fastjson.Value) map[string]any {
	if r.depth++; r.depth > maxFastDepth {
		r.bad = true
	}
	defer func() { r.depth-- }()
	o, err := v.Object()
	if err != nil || r.bad {
		r.bad = true
		return nil
	}
	m := make(map[string]any, o.Len())
	r.members(v, func(name []byte, v *fastjson.Value) {
		n := len(m)
		if m[r.intern(name).s] = r.value(v); len(m) == n { // a name seen before
			r.bad = true
		}
	})
	return m
}

// objectOfObjects reads the events field: an object of objects.
func (r *fastReader) objectOfObjects(v *fastjson.Value) map[string]map[string]any {
	o, err := v.Object()
	if err != nil {
		r.bad = true
		return nil
	}
	m := make(map[string]map[string]any, o.Len())
	r.members(v, func(name []byte, v *fastjson.Value) {
		n := len(m)
		if v.Type() != fastjson.TypeObject {
			r.bad = true
			return
		}
		if m[r.intern(name).s] = r.object(v); len(m) == n {
			r.bad = true
		}
	})
	return m
}

// once marks field i of an object seen and reports whether the message
// is still good: a field met twice is a duplicate name, which
// encoding/json resolves its own way (the message is left to it).
func (r *fastReader) once(seen []bool, i int) bool {
	if seen[i] {
		r.bad = true
	}
	seen[i] = true
	return !r.bad
}

// entry reads one params entry.
func (r *fastReader) entry(v *fastjson.Value, en *integrationEntry) {
	var seen [7]bool
	once := func(i int) bool { return r.once(seen[:], i) }
	r.members(v, func(name []byte, v *fastjson.Value) {
		switch string(name) {
		case "assetId":
			if once(0) {
				en.AssetID = r.str(v)
			}
		case "productKey":
			if once(1) {
				en.ProductKey = r.str(v)
			}
		case "deviceKey":
			if once(2) {
				en.DeviceKey = r.str(v)
			}
		case "time":
			if once(3) {
				t, err := strconv.ParseInt(string(r.number(v)), 10, 64)
				if err != nil {
					r.bad = true
				}
				en.Time = t
			}
		case "measurepoints":
			if once(4) {
				en.Measurepoints = r.typedObject(v)
			}
		case "events":
			if once(5) {
				en.Events = r.objectOfObjects(v)
			}
		case "attributes":
			if once(6) {
				en.Attributes = r.typedObject(v)
			}
		default:
			r.bad = true
		}
	})
}

// typedObject reads a field of type map[string]any, which must not be
// null.
func (r *fastReader) typedObject(v *fastjson.Value) map[string]any {
	if v.Type() != fastjson.TypeObject {
		r.bad = true
		return nil
	}
	return r.object(v)
}

// fastDecode decodes raw into d as json.Unmarshal would, parsed by
// fastjson, or returns false (d then holds nothing of use) to leave raw to
// encoding/json. See fastReader for what it leaves.
func fastDecode(raw []byte, d *decodedMessage) bool {
	return fastParse(raw, func(v *fastjson.Value) bool { return fastDecodeValue(v, d) })
}

// fastParse parses raw with a pooled fastjson parser and returns what read
// says of its value, or false, leaving raw to encoding/json, when raw has
// an escape (fastReader reads strings without) or fastjson refuses it. The
// value is the parser's: read must not keep it.
func fastParse(raw []byte, read func(v *fastjson.Value) bool) bool {
	if bytes.IndexByte(raw, '\\') >= 0 {
		return false
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return false
	}
	return read(v)
}

// fastDecodeValue is fastDecode of a parsed value.
func fastDecodeValue(v *fastjson.Value, d *decodedMessage) bool {
	r := &fastReader{}
	var seen [5]bool
	once := func(i int) bool { return r.once(seen[:], i) }
	r.members(v, func(name []byte, v *fastjson.Value) {
		switch string(name) {
		case "id":
			if once(0) {
				d.ID = r.str(v)
			}
		case "version":
			if once(1) {
				d.Version = r.str(v)
			}
		case "method":
			if once(2) {
				d.Method = r.str(v)
			}
		case "params":
			if !once(3) {
				return
			}
			a, err := v.Array()
			if err != nil {
				r.bad = true
				return
			}
			d.Params = make([]integrationEntry, len(a))
			for i, e := range a {
				if r.bad {
					return
				}
				r.entry(e, &d.Params[i])
			}
		case "isRealtimeIntegration":
			if !once(4) {
				return
			}
			b, err := v.Bool()
			if err != nil {
				r.bad = true
				return
			}
			d.Realtime = &b
		default:
			r.bad = true
		}
	})
	return !r.bad
}
