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

// kvValue reads a number as an int64 when it is an integer that fits, as a
// float64 otherwise, and a fraction or an exponent costs no failed integer
// parse: one allocation at most, the value's boxing.
func TestKVValueNumbers(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want any
	}{
		{`12`, int64(12)}, {`-7`, int64(-7)}, {`0`, int64(0)},
		{`3.25`, 3.25}, {`-0.5`, -0.5}, {`1e3`, 1000.0}, {`2E-2`, 0.02}, {`1.5e2`, 150.0},
		{`99999999999999999999`, 1e20}, // too large for an int64
		{`1x`, "1x"},                   // not a number: kept as its text
	} {
		if got := kvValue([]byte(c.raw)); got != c.want {
			t.Errorf("kvValue(%s) = %#v, want %#v", c.raw, got, c.want)
		}
	}
	for _, raw := range []string{`3.25`, `1e3`, `123456`} {
		b := []byte(raw)
		if n := testing.AllocsPerRun(100, func() { _ = kvValue(b) }); n > 1 {
			t.Errorf("kvValue(%s): %.0f allocations, want at most 1 (the boxing)", raw, n)
		}
	}
}
