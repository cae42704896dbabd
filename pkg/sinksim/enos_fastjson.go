package sinksim

import (
	"slices"
	"strconv"
)

// messageFields are the names of decodedMessage's fields.
var messageFields = [...]string{"id", "version", "method", "params", "isRealtimeIntegration"}

// fastReader decodes the common shape of an enos-message into a
// decodedMessage exactly as encoding/json.Unmarshal does, in one pass and
// without reflection: encoding/json's was most of the emulator's cost
// under load. It knows only a strict subset of JSON's ways to say the
// same thing: ASCII strings without escapes, the field names exactly as
// the tags spell them, each once, no null where a field is not an any.
// Anything else sets bad and the message is decoded by encoding/json
// instead, so the emulator never accepts, rejects or stores differently.
// TestFastDecodeAgreesWithEncodingJSON and its fuzz target check it.
type fastReader struct {
	b     []byte
	off   int
	bad   bool
	depth int
	// strs interns the message's strings: its entries repeat the same
	// point ids, devices and values, each a string of its own otherwise.
	strs map[string]string
	// lastLen is the size of the last entry's measurepoints or
	// attributes, the likely size of the next one's (the entries of a
	// message mostly have the same points).
	lastLen int
}

// maxFastDepth bounds the nesting of values the fast path follows.
const maxFastDepth = 64

func (r *fastReader) ws() {
	for r.off < len(r.b) {
		switch r.b[r.off] {
		case ' ', '\t', '\n', '\r':
			r.off++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (r *fastReader) peek() byte {
	r.ws()
	if r.off >= len(r.b) {
		r.bad = true
		return 0
	}
	return r.b[r.off]
}

func (r *fastReader) expect(c byte) {
	if r.peek() != c {
		r.bad = true
		return
	}
	r.off++
}

// str reads a string of printable ASCII without escapes.
func (r *fastReader) str() string {
	if r.peek() != '"' {
		r.bad = true
		return ""
	}
	start := r.off + 1
	for i := start; i < len(r.b); i++ {
		switch c := r.b[i]; {
		case c == '"':
			r.off = i + 1
			if s, ok := r.strs[string(r.b[start:i])]; ok {
				return s
			}
			s := string(r.b[start:i])
			if r.strs == nil {
				r.strs = make(map[string]string)
			}
			r.strs[s] = s
			return s
		case c < 0x20 || c >= 0x80 || c == '\\':
			r.bad = true
			return ""
		}
	}
	r.bad = true
	return ""
}

// number returns the text of a JSON number.
func (r *fastReader) number() []byte {
	r.ws()
	start, i := r.off, r.off
	digits := func() int {
		n := 0
		for i < len(r.b) && r.b[i] >= '0' && r.b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(r.b) && r.b[i] == '-' {
		i++
	}
	switch {
	case i < len(r.b) && r.b[i] == '0':
		i++
	case digits() == 0:
		r.bad = true
		return nil
	}
	if i < len(r.b) && r.b[i] == '.' {
		i++
		if digits() == 0 {
			r.bad = true
			return nil
		}
	}
	if i < len(r.b) && (r.b[i] == 'e' || r.b[i] == 'E') {
		i++
		if i < len(r.b) && (r.b[i] == '+' || r.b[i] == '-') {
			i++
		}
		if digits() == 0 {
			r.bad = true
			return nil
		}
	}
	r.off = i
	return r.b[start:i]
}

func (r *fastReader) literal(word string) {
	if len(r.b)-r.off < len(word) || string(r.b[r.off:r.off+len(word)]) != word {
		r.bad = true
		return
	}
	r.off += len(word)
}

// value reads any value as encoding/json decodes it into an any.
func (r *fastReader) value() any {
	switch c := r.peek(); {
	case r.bad:
		return nil
	case c == '"':
		return r.str()
	case c == '{':
		return r.object(0)
	case c == '[':
		r.off++
		if r.depth++; r.depth > maxFastDepth {
			r.bad = true
			return nil
		}
		defer func() { r.depth-- }()
		out := []any{}
		if r.peek() == ']' {
			r.off++
			return out
		}
		for !r.bad {
			out = append(out, r.value())
			if r.peek() == ',' {
				r.off++
				continue
			}
			r.expect(']')
			break
		}
		return out
	case c == 't':
		r.literal("true")
		return true
	case c == 'f':
		r.literal("false")
		return false
	case c == 'n':
		r.literal("null")
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		f, err := strconv.ParseFloat(string(r.number()), 64)
		if err != nil {
			r.bad = true
		}
		return f
	}
	r.bad = true
	return nil
}

// members reads an object's members, calling member after each name with
// the reader at its value. A name seen twice sets bad.
func (r *fastReader) members(member func(name string)) {
	r.expect('{')
	if r.depth++; r.depth > maxFastDepth {
		r.bad = true
	}
	defer func() { r.depth-- }()
	if r.bad {
		return
	}
	if r.peek() == '}' {
		r.off++
		return
	}
	for !r.bad {
		name := r.str()
		r.expect(':')
		if r.bad {
			return
		}
		member(name)
		if r.peek() == ',' {
			r.off++
			continue
		}
		r.expect('}')
		return
	}
}

// object reads an object as a map[string]any, of about hint members.
func (r *fastReader) object(hint int) map[string]any {
	m := make(map[string]any, hint)
	r.members(func(name string) {
		n := len(m)
		if m[name] = r.value(); len(m) == n { // a name seen before
			r.bad = true
		}
	})
	return m
}

// entryMap reads an entry's measurepoints or attributes, sized like the
// last entry's.
func (r *fastReader) entryMap() map[string]any {
	m := r.object(min(r.lastLen, 64))
	r.lastLen = len(m)
	return m
}

// objectOfObjects reads the events field: an object of objects.
func (r *fastReader) objectOfObjects() map[string]map[string]any {
	m := map[string]map[string]any{}
	r.members(func(name string) {
		if _, dup := m[name]; dup || r.peek() != '{' {
			r.bad = true
			return
		}
		m[name] = r.object(0)
	})
	return m
}

// entry reads one params entry.
func (r *fastReader) entry(en *integrationEntry) {
	var seen [7]bool
	once := func(i int) bool {
		if seen[i] {
			r.bad = true
		}
		seen[i] = true
		return !r.bad
	}
	r.members(func(name string) {
		switch name {
		case "assetId":
			if once(0) {
				en.AssetID = r.str()
			}
		case "productKey":
			if once(1) {
				en.ProductKey = r.str()
			}
		case "deviceKey":
			if once(2) {
				en.DeviceKey = r.str()
			}
		case "time":
			if once(3) {
				t, err := strconv.ParseInt(string(r.number()), 10, 64)
				if err != nil {
					r.bad = true
				}
				en.Time = t
			}
		case "measurepoints":
			if once(4) {
				if r.peek() != '{' {
					r.bad = true
					return
				}
				en.Measurepoints = r.entryMap()
			}
		case "events":
			if once(5) {
				en.Events = r.objectOfObjects()
			}
		case "attributes":
			if once(6) {
				if r.peek() != '{' {
					r.bad = true
					return
				}
				en.Attributes = r.entryMap()
			}
		default:
			r.bad = true
		}
	})
}

// fastDecode decodes raw into d as json.Unmarshal would, or returns false
// (d then holds nothing of use) to leave raw to encoding/json.
func fastDecode(raw []byte, d *decodedMessage) bool {
	r := &fastReader{b: raw}
	var seen [len(messageFields)]bool
	r.members(func(name string) {
		i := slices.Index(messageFields[:], name)
		if i < 0 || seen[i] {
			r.bad = true
			return
		}
		seen[i] = true
		switch name {
		case "id":
			d.ID = r.str()
		case "version":
			d.Version = r.str()
		case "method":
			d.Method = r.str()
		case "params":
			r.expect('[')
			d.Params = []integrationEntry{}
			if r.peek() == ']' {
				r.off++
				return
			}
			for !r.bad {
				d.Params = append(d.Params, integrationEntry{})
				r.entry(&d.Params[len(d.Params)-1])
				if r.peek() == ',' {
					r.off++
					continue
				}
				r.expect(']')
				return
			}
		case "isRealtimeIntegration":
			switch r.peek() {
			case 't':
				r.literal("true")
				v := true
				d.Realtime = &v
			case 'f':
				r.literal("false")
				v := false
				d.Realtime = &v
			default:
				r.bad = true
			}
		}
	})
	r.ws()
	return !r.bad && r.off == len(raw)
}
