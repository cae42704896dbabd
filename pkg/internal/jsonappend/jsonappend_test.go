package jsonappend_test

import (
	"encoding/json"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/internal/jsonappend"
)

func check(t *testing.T, s string) {
	t.Helper()
	want, _ := json.Marshal(s)
	if got := jsonappend.String([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("String(%q) = %s, want x%s", s, got, want)
	}
}

func TestStringAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "abc", `a"b`, `a\b`, "<&>", "é", "\xff", "\x00\x1f", "\u2028"} {
		check(t, s)
	}
}

func FuzzStringAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "abc", `a"b`, "<&>", "é\xff"} {
		f.Add(s)
	}
	f.Fuzz(check)
}
