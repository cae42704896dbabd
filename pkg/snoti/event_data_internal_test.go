package snoti

import (
	"encoding/json"
	"maps"
	"testing"
)

// decodeValues gives what encoding/json gives for the values of a
// status_kv push: the same map, the same error or none.
func TestDecodeValuesMatchesEncodingJSON(t *testing.T) {
	for _, raw := range []string{
		`{"on":1,"mode":"auto","nested":{"a":[1,2]},"v":230.5,"n":null,"b":true}`,
		`{ "a" : 1 , "a" : "two" }`, `{}`, `null`, ``, `[1,2]`, `"text"`, `12`,
		`{"\u00e9":1,"k\"q":2}`, "{\"k\xff\":1}", "{\"\xc3\\u0041\":1}",
		`{"a":1`, `{"a":}`,
	} {
		checkValues(t, []byte(raw))
	}
}

func FuzzDecodeValues(f *testing.F) {
	for _, raw := range []string{`{"on":1,"mode":"auto","nested":{"a":[1,2]}}`, `{"a":1,"a":2}`, `null`, `[1]`, "{\"k\xff\":1}"} {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkValues(t, raw) })
}

func checkValues(t *testing.T, raw []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	wantErr := unmarshalData(raw, &want)
	got, err := decodeValues(raw)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("decodeValues(%q): error %v, encoding/json gives %v", raw, err, wantErr)
	}
	if err == nil && !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return string(a) == string(b) }) || (got == nil) != (want == nil) {
		t.Fatalf("decodeValues(%q) = %q, encoding/json gives %q", raw, got, want)
	}
}
