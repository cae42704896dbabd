package sinksim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// checkFastDecode fails when fastDecode accepts raw but encoding/json does
// not, or decodes it differently.
func checkFastDecode(t *testing.T, raw []byte) bool {
	t.Helper()
	var fast, std decodedMessage
	if !fastDecode(raw, &fast) {
		return false
	}
	if err := json.Unmarshal(raw, &std); err != nil {
		t.Fatalf("%q: fastDecode accepted what encoding/json rejects: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("%q: decodings differ\nfast %+v\njson %+v", raw, fast, std)
	}
	return true
}

// randomMessage is an enos-message as the forwarder writes one, with
// random entries, values and spacing, sometimes broken.
func randomMessage(rng *rand.Rand) []byte {
	word := func() string {
		const chars = "abcXYZ019_-./ é\"\\<&\x01\x7f"
		n := rng.IntN(8)
		var b strings.Builder
		for range n {
			if rng.IntN(6) == 0 {
				b.WriteByte(chars[rng.IntN(len(chars))])
			} else {
				b.WriteByte(chars[rng.IntN(13)])
			}
		}
		return b.String()
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch rng.IntN(9) {
		case 0:
			return nil
		case 1:
			return rng.IntN(2) == 0
		case 2:
			return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		case 3:
			return rng.Int64() >> rng.IntN(64)
		case 4:
			if depth < 3 {
				return []any{value(depth + 1), value(depth + 1)}
			}
		case 5:
			if depth < 3 {
				return map[string]any{"value": value(depth + 1), "quality": rng.IntN(10)}
			}
		}
		return word()
	}
	entries := make([]map[string]any, rng.IntN(5))
	for i := range entries {
		e := map[string]any{}
		if rng.IntN(4) == 0 {
			e["assetId"] = word()
		} else {
			e["productKey"], e["deviceKey"] = word(), word()
		}
		if rng.IntN(8) != 0 {
			e["time"] = rng.Int64N(1 << 42)
		}
		m := map[string]any{}
		for j := rng.IntN(6); j > 0; j-- {
			m[word()] = value(0)
		}
		switch rng.IntN(4) {
		case 0:
			e["events"] = map[string]any{word(): m}
		case 1:
			e["attributes"] = m
		default:
			e["measurepoints"] = m
		}
		entries[i] = e
	}
	msg := map[string]any{"id": word(), "version": "1.1", "method": "integration.measurepoint.post", "params": entries}
	if rng.IntN(3) == 0 {
		msg["isRealtimeIntegration"] = rng.IntN(2) == 0
	}
	var raw []byte
	if rng.IntN(2) == 0 {
		raw, _ = json.Marshal(msg)
	} else {
		raw, _ = json.MarshalIndent(msg, " ", "\t")
	}
	if rng.IntN(4) == 0 && len(raw) > 0 { // broken: a byte changed or the end cut
		if rng.IntN(2) == 0 {
			raw[rng.IntN(len(raw))] = "{}[],:\"0-.e"[rng.IntN(11)]
		} else {
			raw = raw[:rng.IntN(len(raw))]
		}
	}
	return raw
}

// TestFastDecodeAgreesWithEncodingJSON: what the fast path decodes,
// encoding/json decodes alike; and it does decode what the forwarder
// sends, so that the emulator's cost is the fast path's.
func TestFastDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range decodeSeeds {
		checkFastDecode(t, []byte(s))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for range 5000 {
		if checkFastDecode(t, randomMessage(rng)) {
			fast++
		}
	}
	if fast < 500 {
		t.Fatalf("the fast path decoded %d of 5000 random messages: it compares too little", fast)
	}
	typical := `{"id":"0123abcd","version":"1.1","method":"integration.measurepoint.post","params":[` +
		`{"productKey":"pk-ev","deviceKey":"dev-01","time":1700000000123,"measurepoints":{"Current":16.02,"CurrentLimit":32,"Mode":"auto","On":true,"Q":{"value":1.5e-7,"quality":9},"A":[1,-2.5,null]}},` +
		`{"assetId":"a1","time":1700000000124,"measurepoints":{"P":0}}],"isRealtimeIntegration":false}`
	unicode := `{"id":"m","method":"x","params":[{"assetId":"é","time":1,"measurepoints":{"température":"20 °C"}}]}`
	for _, s := range []string{typical, unicode, decodeSeeds[0], decodeSeeds[2], decodeSeeds[3]} {
		if !checkFastDecode(t, []byte(s)) {
			t.Fatalf("%s: left to encoding/json", s)
		}
	}
	for _, s := range []string{
		`{"id":"m","id":"n","method":"x","params":[]}`,                                                                         // duplicate name: last wins in encoding/json
		`{"ID":"m","method":"x","params":[]}`,                                                                                  // case-folded name
		`{"id":"\u00e9","method":"x","params":[]}`,                                                                             // escape
		`{"id":"m","method":"x","params":[{"assetId":"a","time":1.5}]}`,                                                        // not an int64
		`{"id":"m","method":"x","params":[{"assetId":"a","time":1,"x":1}]}`,                                                    // unknown field
		`{"id":"m","method":"x","params":[{"measurepoints":{"p":1e999}}]}`,                                                     // out of range
		`{"id":"m","method":"x","params":null}`,                                                                                // null
		`{"id":null,"method":"x","params":[]}`,                                                                                 // null string
		`{"id":"m","method":"x","params":[{"assetId":"a","measurepoints":null}]}`,                                              // null map
		`{"id":"m","method":"x","params":[{"measurepoints":{"p":NaN}}]}`,                                                       // fastjson's NaN
		`{"id":"m","method":"x","params":[{"measurepoints":{"p":-Inf}}]}`,                                                      // fastjson's Inf
		`{"id":"m","method":"x","params":[{"measurepoints":{"p":+1}}]}`,                                                        // not JSON's number
		`{"id":"m","method":"x","params":[{"measurepoints":{"p":01}}]}`,                                                        // not JSON's number
		"{\"id\":\"a\tb\",\"method\":\"x\",\"params\":[]}",                                                                     // control character
		"{\"id\":\"\xff\",\"method\":\"x\",\"params\":[]}",                                                                     // invalid UTF-8: U+FFFD in encoding/json
		`{"id":"m","method":"x","params":[]} x`,                                                                                // trailing
		fmt.Sprintf(`{"id":"m","params":[{"measurepoints":{"p":%s1%s}}]}`, strings.Repeat("[", 100), strings.Repeat("]", 100)), // deep
	} {
		var d decodedMessage
		if fastDecode([]byte(s), &d) {
			t.Fatalf("%s: decoded by the fast path, want it left to encoding/json", s)
		}
	}
}

func FuzzFastDecodeAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(randomMessage(rng))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkFastDecode(t, raw) })
}

// BenchmarkDecodeMessage is the emulator's decode of what the forwarder
// posts: 250 entries of 9 points, 100 devices.
func BenchmarkDecodeMessage(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"id":"0123456789abcdef0123456789abcdef","version":"1.1","method":"integration.measurepoint.post","params":[`)
	for i := range 250 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"productKey":"pk-ev","deviceKey":"dev-%03d","time":%d,"measurepoints":{"ChargeEnable":true,"Current":16.02,"CurrentLimit":32,"EnergyKWh":%g,"Mode":"auto","PlugConnected":true,"State":"charging","Temperature":35,"Voltage":230.1}}`,
			i%100, 1700000000000+i, 12.345+float64(i))
	}
	sb.WriteString(`]}`)
	raw := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := decodeWhole(raw); !ok {
			b.Fatal("not decoded")
		}
	}
}
