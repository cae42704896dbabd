package replay_test

import (
	"testing"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

// FuzzParseBound: any input either fails or parses to a bound whose
// String parses back to the same bound.
func FuzzParseBound(f *testing.F) {
	for _, s := range []string{"", "earliest", "now", "2026-11-21T08:00:00Z", "2026-11-21T08:00:00.123+02:00", "42", "0=1,3=7", "0=", "=1", "-1", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := replay.ParseBound(s)
		if err != nil {
			return
		}
		back, err := replay.ParseBound(b.String())
		if err != nil || back.String() != b.String() {
			t.Fatalf("ParseBound(%q).String() = %q does not parse back (%v, %q)", s, b.String(), err, back.String())
		}
	})
}

// FuzzParseFilter: a parsed filter's canonical form parses to the same
// canonical form.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "did=a", "product_key=p,did=a,did=b", "key=x", "a=", "=b", "a=b=c", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := replay.ParseFilter(s)
		if err != nil {
			return
		}
		back, err := replay.ParseFilter(flt.String())
		if err != nil || back.String() != flt.String() {
			t.Fatalf("ParseFilter(%q).String() = %q does not parse back (%v, %q)", s, flt.String(), err, back.String())
		}
	})
}
