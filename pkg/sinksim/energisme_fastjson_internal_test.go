package sinksim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkFastDecodePush fails when fastDecodePush accepts raw but
// encoding/json does not, or decodes it differently.
func checkFastDecodePush(t *testing.T, raw []byte) bool {
	t.Helper()
	var fast pushBody
	if !fastDecodePush(raw, &fast) {
		return false
	}
	std, reason := decodePushJSON(raw)
	if reason != "" {
		t.Fatalf("%q: fastDecodePush accepted what encoding/json rejects: %s", raw, reason)
	}
	if fast != std {
		t.Fatalf("%q: decodings differ\nfast %+v\njson %+v", raw, fast, std)
	}
	return true
}

// pushSeeds are push bodies the forwarder sends and a few it does not.
var pushSeeds = []string{
	`{"timestamp":"2019-04-28T12:59:36.599Z","deviceid":"123124","payload":"2367A3B3C1DEFE","devicetype":"dt"}`,
	` {"devicetype":"dt", "payload":"AB","deviceid":"é","timestamp":"x"} `,
	`{}`,
	`{"timestamp":"2019-04-28T12:59:36.599Z","deviceid":"1","payload":"AB","devicetype":"dt"}}`,
	`{"timestamp":"t","timestamp":"u","deviceid":"1","payload":"AB","devicetype":"dt"}`,
	`{"Timestamp":"t","deviceid":"1","payload":"AB","devicetype":"dt"}`,
	`{"timestamp":null,"deviceid":"1","payload":"AB","devicetype":"dt"}`,
	`{"timestamp":"t","deviceid":1,"payload":"AB","devicetype":"dt"}`,
	`{"timestamp":"t","deviceid":"\u0031","payload":"AB","devicetype":"dt"}`,
	"{\"timestamp\":\"t\",\"deviceid\":\"a\tb\",\"payload\":\"AB\",\"devicetype\":\"dt\"}",
	"{\"timestamp\":\"t\",\"deviceid\":\"\xff\",\"payload\":\"AB\",\"devicetype\":\"dt\"}",
	`{"timestamp":"t","deviceid":"1","payload":"AB","devicetype":"dt","x":1}`,
	`{"timestamp":"t"} x`,
	`[]`,
	`"x"`,
	`null`,
}

// randomPush is a push body with random fields, values, order and
// spacing, sometimes broken.
func randomPush(rng *rand.Rand) []byte {
	word := func() string {
		const chars = "abcXYZ019_-.:T é\"\\<&\x01\x7f"
		var b strings.Builder
		for range rng.IntN(10) {
			if rng.IntN(6) == 0 {
				b.WriteByte(chars[rng.IntN(len(chars))])
			} else {
				b.WriteByte(chars[rng.IntN(15)])
			}
		}
		return b.String()
	}
	names := []string{"timestamp", "deviceid", "payload", "devicetype"}
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	sp := func() string { return strings.Repeat(" ", rng.IntN(2)) }
	var b strings.Builder
	b.WriteString(sp() + "{")
	for i, n := range names[:rng.IntN(len(names)+1)] {
		if i > 0 {
			b.WriteString(sp() + ",")
		}
		switch rng.IntN(12) {
		case 0:
			n = strings.ToUpper(n)
		case 1:
			n = "x"
		}
		var v string
		switch rng.IntN(12) {
		case 0:
			v = "null"
		case 1:
			v = fmt.Sprint(rng.IntN(100))
		default:
			v = `"` + word() + `"`
		}
		fmt.Fprintf(&b, "%q%s:%s%s", n, sp(), sp(), v)
	}
	b.WriteString("}" + sp())
	if rng.IntN(10) == 0 {
		b.WriteString([]string{"}", "x", "{}", "]"}[rng.IntN(4)])
	}
	return []byte(b.String())
}

// TestFastDecodePushAgreesWithEncodingJSON: what the fast path decodes,
// encoding/json decodes alike; and it does decode what the forwarder
// sends, so that the emulator's cost is the fast path's.
func TestFastDecodePushAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range pushSeeds {
		checkFastDecodePush(t, []byte(s))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	fast := 0
	for range 5000 {
		if checkFastDecodePush(t, randomPush(rng)) {
			fast++
		}
	}
	if fast < 500 {
		t.Fatalf("the fast path decoded %d of 5000 random bodies: it compares too little", fast)
	}
	for _, s := range pushSeeds[:3] {
		if !checkFastDecodePush(t, []byte(s)) {
			t.Fatalf("%s: left to encoding/json", s)
		}
	}
	for _, s := range pushSeeds[3:] {
		var b pushBody
		if fastDecodePush([]byte(s), &b) {
			t.Fatalf("%s: decoded by the fast path, want it left to encoding/json", s)
		}
	}
}

func FuzzFastDecodePushAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range pushSeeds {
		f.Add([]byte(s))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		f.Add(randomPush(rng))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkFastDecodePush(t, raw) })
}
