package snoti

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// redeliveryFields are the members SNoti changes when it delivers a push
// again; every other member identifies the event.
var redeliveryFields = []string{"delivery_id", "msg_id"}

// EventID returns the deterministic id of the push in line: the hex SHA-256
// of the canonical form (see Canonical) of every top-level member except
// delivery_id and msg_id. A redelivery of the push, under whatever delivery
// id and msg_id, whatever its key order or whitespace, gets the same id;
// two pushes that differ in any other member, at any depth, never share
// one. It fails only when line is not a JSON object.
func EventID(line []byte) (string, error) {
	c, err := Canonical(line, redeliveryFields...)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// EventID is the push's deterministic id (see the package function
// EventID). The client's pushes are always JSON objects; for a Push built
// by hand whose Raw is not one, it is the SHA-256 of Raw.
func (p *Push) EventID() string {
	id, err := EventID(p.Raw)
	if err != nil {
		sum := sha256.Sum256(p.Raw)
		return hex.EncodeToString(sum[:])
	}
	return id
}

// Canonical returns the canonical form of the JSON object in line, without
// its top-level members named in omit: no whitespace, object members sorted
// by key (bytewise on the decoded key; equal keys by their canonical value)
// at every depth, strings re-encoded with the fewest escapes (only `"`, `\`
// and control characters, as \u00XX), numbers and literals as sent.
func Canonical(line []byte, omit ...string) ([]byte, error) {
	members, err := scanObject(line)
	if err != nil {
		return nil, err
	}
	members = slices.DeleteFunc(members, func(m member) bool { return slices.Contains(omit, string(m.key)) })
	return appendCanonicalMembers(make([]byte, 0, len(line)), members), nil
}

// appendCanonicalMembers writes an object of already split members.
func appendCanonicalMembers(dst []byte, members []member) []byte {
	type canonMember struct {
		key, value []byte
	}
	cm := make([]canonMember, len(members))
	var scratch []byte
	for i, m := range members {
		start := len(scratch)
		scratch = appendCanonical(scratch, m.value)
		cm[i] = canonMember{key: m.key, value: scratch[start:len(scratch):len(scratch)]}
	}
	slices.SortFunc(cm, func(a, b canonMember) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return bytes.Compare(a.value, b.value)
	})
	dst = append(dst, '{')
	for i, m := range cm {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCanonicalString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, m.value...)
	}
	return append(dst, '}')
}

// appendCanonical writes the canonical form of one valid JSON value.
func appendCanonical(dst, v []byte) []byte {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return dst
	}
	switch v[0] {
	case '{':
		members, err := scanObject(v)
		if err != nil { // validated by the caller
			return append(dst, v...)
		}
		return appendCanonicalMembers(dst, members)
	case '[':
		dst = append(dst, '[')
		s := scanner{b: v, i: 1}
		for n := 0; ; n++ {
			s.skipSpace()
			if s.i >= len(v) || v[s.i] == ']' {
				break
			}
			start := s.i
			if s.value(1) != nil {
				break
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendCanonical(dst, v[start:s.i])
			s.skipSpace()
			if s.i < len(v) && v[s.i] == ',' {
				s.i++
			}
		}
		return append(dst, ']')
	case '"':
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return appendCanonicalString(dst, inner)
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return append(dst, v...)
		}
		return appendCanonicalString(dst, []byte(s))
	default: // numbers, true, false, null: as sent
		return append(dst, v...)
	}
}

// appendCanonicalString writes s quoted, escaping only what JSON requires.
func appendCanonicalString(dst, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
