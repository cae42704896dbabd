package snoti

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// maxJSONDepth bounds nesting, as encoding/json does, so a hostile line
// cannot exhaust the stack of the recursive scanner.
const maxJSONDepth = 10000

// member is one top-level member of a JSON object: its key (decoded; it
// aliases the scanned line unless it had escapes) and its value as raw
// JSON text, aliasing the line.
type member struct {
	key   []byte
	value json.RawMessage
}

// scanObject validates line as one JSON value and, when it is an object,
// returns its top-level members in wire order (duplicates kept). The error
// says whether the line is not JSON at all or JSON of another kind.
func scanObject(line []byte) ([]member, error) {
	return appendMembers(make([]member, 0, 16), line)
}

// appendMembers is scanObject appending the members to dst; on error dst
// may hold some of them.
func appendMembers(dst []member, line []byte) ([]member, error) {
	s := scanner{b: line}
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] != '{' {
		if err := s.value(0); err != nil {
			return dst, fmt.Errorf("not JSON: %w", err)
		}
		if s.skipSpace(); s.i != len(s.b) {
			return dst, fmt.Errorf("not JSON: %w", s.errorf("data after the value"))
		}
		return dst, fmt.Errorf("JSON %s, not an object", kindOf(line[bytes.IndexFunc(line, notSpace)]))
	}
	s.members, s.collect = dst, true
	if err := s.value(0); err != nil {
		return s.members, fmt.Errorf("not JSON: %w", err)
	}
	if s.skipSpace(); s.i != len(s.b) {
		return s.members, fmt.Errorf("not JSON: %w", s.errorf("data after the object"))
	}
	return s.members, nil
}

func notSpace(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' }

func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// decodeKey turns a raw JSON string (quotes included) into its text,
// without copying when it has no escapes.
func decodeKey(raw []byte) []byte {
	inner := raw[1 : len(raw)-1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return inner // validated already; cannot happen
	}
	return []byte(s)
}

// scanner is a validating JSON scanner: it accepts exactly what
// encoding/json accepts (invalid UTF-8 included, as encoding/json does)
// and allocates nothing but members. With collect set, the members of the
// outermost object are appended to members.
type scanner struct {
	b       []byte
	i       int
	collect bool
	members []member
}

var errUnexpectedEnd = errors.New("unexpected end of line")

func (s *scanner) errorf(format string, a ...any) error {
	return fmt.Errorf("offset %d: %s", s.i, fmt.Sprintf(format, a...))
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value scans one value starting at s.i (after optional space).
func (s *scanner) value(depth int) error {
	s.skipSpace()
	if s.i >= len(s.b) {
		return errUnexpectedEnd
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.errorf("invalid character %q looking for a value", c)
	}
}

func (s *scanner) object(depth int) error {
	if depth > maxJSONDepth {
		return s.errorf("nested too deeply")
	}
	top := depth == 1 && s.collect
	s.i++ // {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if s.i >= len(s.b) {
			return errUnexpectedEnd
		}
		if s.b[s.i] != '"' {
			return s.errorf("invalid character %q looking for an object key", s.b[s.i])
		}
		kStart := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := s.b[kStart:s.i]
		s.skipSpace()
		if s.i >= len(s.b) {
			return errUnexpectedEnd
		}
		if s.b[s.i] != ':' {
			return s.errorf("invalid character %q after an object key", s.b[s.i])
		}
		s.i++
		s.skipSpace()
		vStart := s.i
		if err := s.value(depth); err != nil {
			return err
		}
		value := s.b[vStart:s.i:s.i]
		s.skipSpace()
		if s.i >= len(s.b) {
			return errUnexpectedEnd
		}
		// A member is reported once its terminator is seen, so the members
		// before a truncation are complete (a number cut short is not).
		switch s.b[s.i] {
		case ',':
			s.i++
			if top {
				s.members = append(s.members, member{key: decodeKey(key), value: value})
			}
		case '}':
			s.i++
			if top {
				s.members = append(s.members, member{key: decodeKey(key), value: value})
			}
			return nil
		default:
			return s.errorf("invalid character %q after an object member", s.b[s.i])
		}
	}
}

func (s *scanner) array(depth int) error {
	if depth > maxJSONDepth {
		return s.errorf("nested too deeply")
	}
	s.i++ // [
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return errUnexpectedEnd
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errorf("invalid character %q after an array element", s.b[s.i])
		}
	}
}

// plainStringByte holds the bytes a JSON string carries as they are: any
// but the quote, the backslash and the control characters. Scanning runs
// of them through the table is what keeps the scanner's hottest loop
// short.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) str() error {
	s.i++ // "
	for s.i < len(s.b) {
		b, i := s.b, s.i
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if s.i = i; i >= len(b) {
			break
		}
		switch c := b[i]; c {
		case '"':
			s.i++
			return nil
		case '\\':
			if s.i+1 >= len(s.b) {
				return errUnexpectedEnd
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return errUnexpectedEnd
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return s.errorf("invalid \\u escape")
					}
				}
				s.i += 6
			default:
				return s.errorf("invalid escape \\%c", s.b[s.i+1])
			}
		default: // a control character
			return s.errorf("control character %#x in a string", c)
		}
	}
	return errUnexpectedEnd
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans the JSON number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i >= len(s.b):
		return errUnexpectedEnd
	case s.b[s.i] == '0':
		s.i++
	case isDigit(s.b[s.i]):
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	default:
		return s.errorf("invalid character %q in a number", s.b[s.i])
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.errorf("number without digits after the decimal point")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.errorf("number without digits in the exponent")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	return nil
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		if len(s.b)-s.i < len(lit) && bytes.HasPrefix([]byte(lit), s.b[s.i:]) {
			return errUnexpectedEnd
		}
		return s.errorf("invalid literal, want %s", lit)
	}
	s.i += len(lit)
	return nil
}
