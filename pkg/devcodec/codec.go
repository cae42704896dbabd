package devcodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// Codec is a compiled spec. It is immutable after Parse and safe for
// concurrent use.
type Codec struct {
	name       string
	productKey string
	dispatch   *dispatch
	messages   []messageLayout
	fallback   int // index of the message without match, -1 if none
}

// dispatch selects the message kind from header bytes.
type dispatch struct {
	offset, length int
	little         bool
}

type specJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	ProductKey  string `json:"product_key"`
	ByteOrder   string `json:"byte_order"`
	Dispatch    *struct {
		Offset    int    `json:"offset"`
		Length    int    `json:"length"`
		ByteOrder string `json:"byte_order"`
	} `json:"dispatch"`
	Messages []struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Match       json.RawMessage `json:"match"`
		Length      int             `json:"length"`
		Fields      []fieldJSON     `json:"fields"`
	} `json:"messages"`
}

// Parse reads and checks a spec, reporting every problem found (joined by
// "; "), each with its path: messages[1].fields[3] "temp": length 3 invalid
// for i16. Unknown keys are errors too, so a typo does not pass silently.
func Parse(data []byte) (*Codec, error) {
	var sj specJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sj); err != nil {
		return nil, fmt.Errorf("parsing codec spec: %w", err)
	}
	c := &Codec{name: sj.Name, productKey: sj.ProductKey, fallback: -1}
	var problems []string
	little := false
	switch sj.ByteOrder {
	case "", "big":
	case "little":
		little = true
	default:
		problems = append(problems, fmt.Sprintf("byte_order %q unknown: want big or little", sj.ByteOrder))
	}
	if sj.Dispatch != nil {
		d := &dispatch{offset: sj.Dispatch.Offset, length: sj.Dispatch.Length, little: little}
		if d.length == 0 {
			d.length = 1
		}
		switch sj.Dispatch.ByteOrder {
		case "":
		case "big":
			d.little = false
		case "little":
			d.little = true
		default:
			problems = append(problems, fmt.Sprintf("dispatch: byte_order %q unknown: want big or little", sj.Dispatch.ByteOrder))
		}
		if d.offset < 0 || d.length < 1 || d.length > 8 {
			problems = append(problems, fmt.Sprintf("dispatch: offset %d length %d invalid: want offset ≥ 0, length 1..8", d.offset, d.length))
		}
		c.dispatch = d
	}
	if len(sj.Messages) == 0 {
		problems = append(problems, "messages: none: want at least one")
	}
	seenMatch := map[uint64]int{}
	for i, mj := range sj.Messages {
		where := fmt.Sprintf("messages[%d]", i)
		if mj.Name != "" {
			where += fmt.Sprintf(" %q", mj.Name)
		}
		m := messageLayout{name: mj.Name, length: mj.Length}
		if mj.Name == "" {
			problems = append(problems, where+": name empty")
		}
		if len(mj.Match) > 0 && string(mj.Match) != "null" {
			match, err := parseMatch(mj.Match)
			switch {
			case err != nil:
				problems = append(problems, where+": "+err.Error())
			case c.dispatch == nil:
				problems = append(problems, where+": match without a dispatch: add \"dispatch\": {\"offset\": …}")
			case c.dispatch.length < 8 && match >= 1<<(8*c.dispatch.length):
				problems = append(problems, fmt.Sprintf("%s: match %#x does not fit the %d dispatch byte(s)", where, match, c.dispatch.length))
			default:
				if j, dup := seenMatch[match]; dup {
					problems = append(problems, fmt.Sprintf("%s: match %#x already used by messages[%d]", where, match, j))
				}
				seenMatch[match] = i
			}
			m.match, m.hasMatch = match, true
		} else {
			if c.fallback >= 0 {
				problems = append(problems, fmt.Sprintf("%s: no match, and messages[%d] has none either: only one message may be the default", where, c.fallback))
			}
			c.fallback = i
		}
		if mj.Length < 0 {
			problems = append(problems, fmt.Sprintf("%s: length %d negative", where, mj.Length))
		}
		names := map[string]int{}
		for k, fj := range mj.Fields {
			f, errs := compileField(fj, little)
			fwhere := fmt.Sprintf("messages[%d].fields[%d] %q", i, k, fj.Name)
			for _, e := range errs {
				problems = append(problems, fwhere+": "+e)
			}
			if j, dup := names[fj.Name]; dup && fj.Name != "" {
				problems = append(problems, fmt.Sprintf("%s: name already used by fields[%d]", fwhere, j))
			}
			names[fj.Name] = k
			if len(errs) == 0 {
				m.minLen = max(m.minLen, f.end())
				if mj.Length > 0 && f.end() > mj.Length {
					problems = append(problems, fmt.Sprintf("%s: ends at byte %d, past the message length %d", fwhere, f.end(), mj.Length))
				}
			}
			m.fields = append(m.fields, f)
		}
		if c.dispatch != nil {
			end := c.dispatch.offset + c.dispatch.length
			m.minLen = max(m.minLen, end)
			if mj.Length > 0 && end > mj.Length {
				problems = append(problems, fmt.Sprintf("%s: length %d leaves no room for the dispatch bytes (up to byte %d)", where, mj.Length, end))
			}
		}
		c.messages = append(c.messages, m)
	}
	if c.dispatch == nil && len(c.messages) > 1 {
		problems = append(problems, fmt.Sprintf("messages: %d without a dispatch: add \"dispatch\" and a match per message", len(c.messages)))
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// parseMatch reads a match value: a JSON integer or a string in decimal or
// 0x-hex.
func parseMatch(raw json.RawMessage) (uint64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	n, err := parseInt(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("match %s: want a non-negative integer, decimal or \"0x…\"", strconv.Quote(string(raw)))
	}
	return uint64(n), nil
}

// Name returns the spec's name.
func (c *Codec) Name() string { return c.name }

// ProductKey returns the spec's product_key ("" when the spec leaves it to
// its file name).
func (c *Codec) ProductKey() string { return c.productKey }

// Decode decodes payload into the message kind its dispatch bytes select.
func (c *Codec) Decode(payload []byte) (Message, error) {
	return c.DecodeAppend(nil, payload)
}

// DecodeAppend is Decode appending the fields to dst; Message.Fields is the
// extended dst.
func (c *Codec) DecodeAppend(dst []value.Field, payload []byte) (Message, error) {
	m, err := c.pick(payload)
	if err != nil {
		return Message{}, err
	}
	if dst == nil {
		dst = make([]value.Field, 0, len(m.fields))
	}
	fields, err := m.decode(dst, payload)
	if err != nil {
		return Message{}, fmt.Errorf("decoding custom payload: %w", err)
	}
	return Message{Name: m.name, Fields: fields}, nil
}

// pick returns the message the dispatch bytes select.
func (c *Codec) pick(payload []byte) (*messageLayout, error) {
	if c.dispatch == nil {
		return &c.messages[0], nil
	}
	d := c.dispatch
	if len(payload) < d.offset+d.length {
		return nil, fmt.Errorf("decoding custom payload: %d bytes, dispatch reads bytes %d..%d: %w", len(payload), d.offset, d.offset+d.length-1, ErrTooShort)
	}
	key := readUint(payload[d.offset:d.offset+d.length], d.little)
	for i := range c.messages {
		if c.messages[i].hasMatch && c.messages[i].match == key {
			return &c.messages[i], nil
		}
	}
	if c.fallback >= 0 {
		return &c.messages[c.fallback], nil
	}
	return nil, fmt.Errorf("decoding custom payload: dispatch value %#x: %w", key, ErrUnknownMessage)
}

// Encode builds the payload of message name from values keyed by field name,
// the inverse of Decode: values as Decode returns them (or Go numbers,
// labels, hex strings, []byte), the dispatch bytes set to the message's
// match. Fields missing from values are left zero; the payload is the
// message's length, or just long enough for its fields. It exists for
// simulators and tests.
func (c *Codec) Encode(name string, values map[string]any) ([]byte, error) {
	var m *messageLayout
	for i := range c.messages {
		if c.messages[i].name == name {
			m = &c.messages[i]
		}
	}
	if m == nil {
		return nil, fmt.Errorf("encoding custom payload: no message %q", name)
	}
	n := max(m.length, m.minLen)
	p := make([]byte, n)
	if c.dispatch != nil && m.hasMatch {
		writeUint(p[c.dispatch.offset:c.dispatch.offset+c.dispatch.length], m.match, c.dispatch.little)
	}
	known := 0
	for i := range m.fields {
		x, ok := values[m.fields[i].name]
		if !ok {
			continue
		}
		known++
		if err := m.fields[i].encode(p, x); err != nil {
			return nil, fmt.Errorf("encoding custom payload %q: %w", name, err)
		}
	}
	if known != len(values) {
		for k := range values {
			if !slices.ContainsFunc(m.fields, func(f field) bool { return f.name == k }) {
				return nil, fmt.Errorf("encoding custom payload %q: no field %q", name, k)
			}
		}
	}
	return p, nil
}
