package ingest

import (
	"encoding/json"
	"testing"
)

// jsonString decodes a JSON string as encoding/json does, its fast path
// included, and fails where encoding/json does.
func TestJSONStringAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{`""`, `"abc"`, `"é"`, `"a\"b"`, `"\u00e9\n"`, "\"\xff\"", "\"a\xc3\"", `"\ud800"`, `"`, `x`, `1`, `"a"b"`} {
		checkJSONString(t, []byte(s))
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, "\"\xff\"", `"\ud800x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, raw []byte) {
	got, ok := jsonString(raw)
	var want string
	err := json.Unmarshal(raw, &want)
	if ok != (err == nil) || got != want {
		t.Errorf("%q: jsonString %q, %v; encoding/json %q, %v", raw, got, ok, want, err)
	}
}
