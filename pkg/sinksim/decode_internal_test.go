package sinksim

import (
	"reflect"
	"strings"
	"testing"
)

// decodeSeeds are enos-messages well formed and not, for the differential
// test and the fuzz target of the one-pass decode.
var decodeSeeds = []string{
	`{"id":"m1","version":"1.1","method":"integration.measurepoint.post","params":[{"productKey":"pk","deviceKey":"dk","time":1700000000123,"measurepoints":{"temp":12.5,"on":true,"s":"x","a":[1,2],"q":{"value":1,"quality":9}}}]}`,
	`{"id":"m2","method":"integration.measurepoint.post","params":[{"assetId":"a","time":1,"measurepoints":{"p":1}},{"assetId":"b","time":"late","measurepoints":{"p":1}}]}`,
	`{"id":"m3","method":"integration.event.post","params":[{"assetId":"a","time":1,"events":{"fault":{"value":1,"attr_name":"x"}}}],"isRealtimeIntegration":false}`,
	`{"id":"m4","method":"integration.attribute.post","params":[{"productKey":"pk","deviceKey":"dk","attributes":{"online":true}}]}`,
	`{"id":"m5","method":"integration.measurepoint.post","params":[null,{"assetId":"a"}]}`,
	`{"id":"m6","method":"integration.event.post","params":[{"assetId":"a","time":1,"measurepoints":{"p":1}}]}`,
	`{"id":"m7","method":"integration.measurepoint.post","params":[{"assetId":"a","time":1,"measurepoints":{"p":{"quality":1}}}]}`,
	`{"id":"m8","method":"integration.measurepoint.post","params":[{"assetId":7,"time":1,"measurepoints":{"p":1}}]}`,
	`{"id":9,"method":"integration.measurepoint.post","params":[]}`,
	`{"id":"m10","method":"integration.measurepoint.post","params":"nope"}`,
	`{"id":"m11","method":"integration.measurepoint.post","params":[{"assetId":"a","time":1,"measurepoints":{"p":1}}],"isRealtimeIntegration":"no"}`,
	`{"params":null}`,
	`{`, `[]`, `null`, ``,
}

// checkDecodeAgrees checks that decoding raw in one pass, when it works,
// gives the same header, entries and validation outcome as decoding it
// entry by entry (how every message was decoded before the one-pass
// decode), for each method.
func checkDecodeAgrees(t *testing.T, raw []byte) {
	t.Helper()
	byEntry, entryOf, errByEntry := decodeByEntry(raw)
	whole, wholeOf, ok := decodeWhole(raw)
	if !ok {
		return // the server then decodes it entry by entry: nothing to compare
	}
	if errByEntry != nil {
		t.Fatalf("%q: decoded whole but not entry by entry: %v", raw, errByEntry)
	}
	if !reflect.DeepEqual(whole, byEntry) {
		t.Fatalf("%q: header %+v whole, %+v entry by entry", raw, whole, byEntry)
	}
	e := &EnOS{}
	for _, method := range integrationMethods {
		gotW, rejW := e.validateMessage(whole, wholeOf, method)
		gotE, rejE := e.validateMessage(byEntry, entryOf, method)
		if !reflect.DeepEqual(rejW, rejE) || !reflect.DeepEqual(gotW, gotE) {
			t.Fatalf("%q, %s: whole gives %+v %+v, entry by entry %+v %+v", raw, method, gotW, rejW, gotE, rejE)
		}
	}
}

func TestDecodeWholeAgreesWithDecodeByEntry(t *testing.T) {
	wholeOK := 0
	for _, s := range decodeSeeds {
		checkDecodeAgrees(t, []byte(s))
		if _, _, ok := decodeWhole([]byte(s)); ok {
			wholeOK++
		}
	}
	if wholeOK < 5 {
		t.Fatalf("only %d seeds decoded in one pass: the test compares too little", wholeOK)
	}
	// A bad entry is named by its index, after the header checks.
	_, entry, err := decodeMessage([]byte(decodeSeeds[1]))
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := decodeByEntry([]byte(decodeSeeds[1]))
	_, rej := (&EnOS{}).validateMessage(h, entry, "integration.measurepoint.post")
	if rej == nil || rej.code != CodeInvalidParameter || !strings.HasPrefix(rej.msg, "params[1]:") {
		t.Fatalf("bad second entry: %+v, want a params[1] rejection", rej)
	}
}

func FuzzDecodeWholeAgreesWithDecodeByEntry(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkDecodeAgrees(t, raw) })
}
