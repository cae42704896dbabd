package snoti

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sync"
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
	c := scratchPool.Get().(*canonicalizer)
	defer c.release()
	var err error
	if c.buf, err = c.appendObject(c.buf[:0], line, redeliveryFields); err != nil {
		return "", err
	}
	sum := sha256.Sum256(c.buf)
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
	c := scratchPool.Get().(*canonicalizer)
	defer c.release()
	return c.appendObject(make([]byte, 0, len(line)), line, omit)
}

// canonicalizer writes canonical forms with buffers reused from line to
// line (scratchPool): the members of the objects being written and
// their sort entries are stacks shared by the nesting levels, and each
// object's member values are written to the output itself, then sorted
// into place, so a line costs no allocation. buf is EventID's output.
type canonicalizer struct {
	members []member
	sorted  []canonMember
	buf     []byte
}

// canonMember is a member to sort: the index of its member (its decoded
// key) in the object's members and its canonical value, dst[start:end] of
// the output being written. prefix is the key's first 8 bytes, big-endian
// and zero-padded: it orders as the key does except when equal, so most
// comparisons are of one integer. It holds no pointer, so the sort moves
// it without the garbage collector's write barriers.
type canonMember struct {
	prefix             uint64
	member, start, end int
}

// keyPrefix is canonMember.prefix of key.
func keyPrefix(key []byte) uint64 {
	if len(key) >= 8 {
		return binary.BigEndian.Uint64(key)
	}
	var p [8]byte
	copy(p[:], key)
	return binary.BigEndian.Uint64(p[:])
}

// scratchPool holds canonicalizers for reuse; splitLine, decodeValues and
// Push.Decode borrow them too, for their members buffer (split).
var scratchPool = sync.Pool{New: func() any { return new(canonicalizer) }}

// maxPooledBytes bounds what a pooled canonicalizer keeps: a rare huge
// line must not pin its buffers.
const maxPooledBytes = 64 << 10

func (c *canonicalizer) release() {
	if cap(c.buf) > maxPooledBytes || cap(c.members) > maxPooledBytes/48 || cap(c.sorted) > maxPooledBytes/32 {
		return
	}
	// The members still alias the last line, which the pool therefore
	// keeps until the canonicalizer's next use or the second garbage
	// collection (sync.Pool drops what it holds across two). Clearing them
	// cost 2% of the ingest's CPU at full speed (write barriers while the
	// collector runs), for one line of memory per pooled canonicalizer.
	c.members, c.sorted = c.members[:0], c.sorted[:0]
	scratchPool.Put(c)
}

// split splits the JSON object in line into its top-level members (as
// scanObject), in c's members buffer: they are valid until c is released.
// On error the buffer may hold some of them.
func (c *canonicalizer) split(line []byte) ([]member, error) {
	var err error
	c.members, err = appendMembers(c.members[:0], line)
	return c.members, err
}

// appendObject appends the canonical form of the JSON object in line
// without its top-level members named in omit.
func (c *canonicalizer) appendObject(dst, line []byte, omit []string) ([]byte, error) {
	base := len(c.members)
	var err error
	if c.members, err = appendMembers(c.members, line); err != nil {
		c.members = c.members[:base]
		return dst, err
	}
	kept := slices.DeleteFunc(c.members[base:], func(m member) bool { return slices.Contains(omit, string(m.key)) })
	c.members = c.members[:base+len(kept)]
	return c.appendMembers(dst, base), nil
}

// appendMembers writes the object of the members c.members[base:], sorted
// by key (equal keys by canonical value), and pops them.
func (c *canonicalizer) appendMembers(dst []byte, base int) []byte {
	end, sortBase, tmp := len(c.members), len(c.sorted), len(dst)
	for i := base; i < end; i++ {
		m := c.members[i] // nested objects push and pop theirs after end
		start := len(dst)
		dst = c.appendValue(dst, m.value)
		c.sorted = append(c.sorted, canonMember{prefix: keyPrefix(m.key), member: i, start: start, end: len(dst)})
	}
	sorted, values, members := c.sorted[sortBase:], dst, c.members
	slices.SortFunc(sorted, func(a, b canonMember) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		if c := bytes.Compare(members[a.member].key, members[b.member].key); c != 0 {
			return c
		}
		return bytes.Compare(values[a.start:a.end], values[b.start:b.end])
	})
	out := len(dst)
	dst = append(dst, '{')
	for i, m := range sorted {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCanonicalString(dst, members[m.member].key)
		dst = append(dst, ':')
		dst = append(dst, dst[m.start:m.end]...)
	}
	dst = append(dst, '}')
	// Move the object over the unsorted values it was built from.
	n := copy(dst[tmp:], dst[out:])
	c.members, c.sorted = c.members[:base], c.sorted[:sortBase]
	return dst[:tmp+n]
}

// appendValue writes the canonical form of one valid JSON value.
func (c *canonicalizer) appendValue(dst, v []byte) []byte {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return dst
	}
	switch v[0] {
	case '{':
		base := len(c.members)
		var err error
		if c.members, err = appendMembers(c.members, v); err != nil { // validated by the caller
			c.members = c.members[:base]
			return append(dst, v...)
		}
		return c.appendMembers(dst, base)
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
			dst = c.appendValue(dst, v[start:s.i])
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
		if plainStringByte[c] {
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
