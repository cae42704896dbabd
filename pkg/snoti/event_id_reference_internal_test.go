package snoti

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"
)

// The implementation of EventID and Canonical before they reused buffers
// (commit 6ac6a8d), kept unchanged as the reference of the differential
// tests: event ids are the dedupe key across restarts and must never
// change value.

func referenceEventID(line []byte) (string, error) {
	c, err := referenceCanonical(line, redeliveryFields...)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

func referenceCanonical(line []byte, omit ...string) ([]byte, error) {
	members, err := scanObject(line)
	if err != nil {
		return nil, err
	}
	members = slices.DeleteFunc(members, func(m member) bool { return slices.Contains(omit, string(m.key)) })
	return referenceAppendMembers(make([]byte, 0, len(line)), members), nil
}

func referenceAppendMembers(dst []byte, members []member) []byte {
	type canonMember struct {
		key, value []byte
	}
	cm := make([]canonMember, len(members))
	var scratch []byte
	for i, m := range members {
		start := len(scratch)
		scratch = referenceAppendCanonical(scratch, m.value)
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

func referenceAppendCanonical(dst, v []byte) []byte {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return dst
	}
	switch v[0] {
	case '{':
		members, err := scanObject(v)
		if err != nil {
			return append(dst, v...)
		}
		return referenceAppendMembers(dst, members)
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
			dst = referenceAppendCanonical(dst, v[start:s.i])
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
	default:
		return append(dst, v...)
	}
}

// referenceLines are pushes of every shape with the oddities canonical
// forms must handle: nesting, reordering, escapes, duplicates, numbers as
// sent, invalid UTF-8, whitespace.
var referenceLines = []string{
	`{"cmd":"event_push","delivery_id":1,"msg_id":"m-1","event_type":"device_status_kv","product_key":"pk","did":"d","created_at":1700000000.25,"data":{"b":1,"a":{"y":"é","x":[1,{"q":2,"p":3}]}}}`,
	`{"data":{"a":{"x":[1,{"p":3,"q":2}],"y":"é"},"b":1},"did":"d","product_key":"pk","created_at":1700000000.25,"event_type":"device_status_kv","msg_id":"m-1","delivery_id":3,"cmd":"event_push"}`,
	"{ \"cmd\": \"event_push\", \"delivery_id\": 4,\n \"event_type\": \"device_status_kv\", \"product_key\": \"p\\u006b\", \"did\": \"d\", \"created_at\": 1700000000.25, \"data\": { \"b\": 1, \"a\": { \"y\": \"\\u00e9\", \"x\": [ 1, { \"q\": 2, \"p\": 3 } ] } } }",
	`{"delivery_id":1,"a":1,"a":2,"a":{"z":1,"z":0},"b":[{"k":2,"k":1},[],{}],"c":"tab\there \u0041\/","\u00e9":-1.50e3,"d":"\ud800","e":null,"f":true}`,
	"{\"delivery_id\":1,\"k\xff\":\"v\xfe\",\"n\":{\"\xc3\":[\"\xe9\"]}}",
	`{"cmd":"enterprise_event_push","delivery_id":123456,"event_type":"device_status_raw","product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","did":"simdev0000000000000001","mac":"a1b2c3d4e5f6","group_id":"","created_at":1700000000.123,"sim_seq":1,"data":{"raw":"AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA=="}}`,
	`{"delivery_id":1,"deep":{"a":{"b":{"c":{"d":[{"e":{"f":1,"a":2}},{"e":{"a":2,"f":1}}]}}},"a2":{"b":{"c":3}}}}`,
	`{}`, ` {"delivery_id":9} `, `{"msg_id":1}`,
}

// The canonical forms and event ids are those of the reference
// implementation, for every line, called in any order (the buffers are
// reused from call to call).
func TestEventIDMatchesTheReference(t *testing.T) {
	lines := append(slices.Clone(referenceLines), fuzzBasePushes...)
	for range 2 {
		for _, l := range lines {
			checkAgainstReference(t, []byte(l))
		}
		slices.Reverse(lines)
	}
}

// FuzzEventIDMatchesTheReference: whatever the line, EventID and Canonical
// agree with the reference implementation, errors included.
func FuzzEventIDMatchesTheReference(f *testing.F) {
	for _, l := range referenceLines {
		f.Add([]byte(l))
	}
	for _, l := range fuzzBasePushes {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkAgainstReference(t, line) })
}

func checkAgainstReference(t *testing.T, line []byte) {
	t.Helper()
	want, wantErr := referenceEventID(line)
	got, err := EventID(line)
	if got != want || (err == nil) != (wantErr == nil) {
		t.Fatalf("EventID(%q) = %q, %v; the reference gives %q, %v", line, got, err, want, wantErr)
	}
	wantC, _ := referenceCanonical(line, "delivery_id", "a")
	gotC, _ := Canonical(line, "delivery_id", "a")
	if !bytes.Equal(gotC, wantC) {
		t.Fatalf("Canonical(%q) = %q; the reference gives %q", line, gotC, wantC)
	}
}

// BenchmarkEventID compares EventID with the reference on a status_raw
// and a status_kv push.
func BenchmarkEventID(b *testing.B) {
	lines := [][]byte{[]byte(referenceLines[5]), []byte(`{"cmd":"event_push","delivery_id":7,"msg_id":"m2","event_type":"device_status_kv","product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","did":"simdev0000000000000001","mac":"5ca1ab000001","created_at":1700000000.123456,"data":{"charge_enable":1,"mode":"manual","current_limit":16,"voltage":230.5,"current":15.75,"energy_kwh":12.345,"temperature":35,"session_id":"0102030405060708"}}`)}
	for _, impl := range []struct {
		name string
		id   func([]byte) (string, error)
	}{{"current", EventID}, {"reference", referenceEventID}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := impl.id(lines[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
