package sinksim

import (
	"github.com/valyala/fastjson"
)

// fastDecodePush decodes a push body into b as servePush's encoding/json
// decoder would (unknown fields refused, one value), parsed by fastjson
// with the rules of fastReader: strings without escapes, of valid UTF-8
// without control characters, the four names exactly as the tags spell
// them, each once, none null. It returns false (b then holds nothing of
// use) to leave raw to encoding/json, which also words every rejection,
// so the emulator never accepts, rejects or stores differently.
// TestFastDecodePushAgreesWithEncodingJSON and its fuzz target check it.
func fastDecodePush(raw []byte, b *pushBody) bool {
	return fastParse(raw, func(v *fastjson.Value) bool { return fastDecodePushValue(v, b) })
}

// fastDecodePushValue is fastDecodePush of a parsed value.
func fastDecodePushValue(v *fastjson.Value, b *pushBody) bool {
	var (
		r    fastReader
		seen [4]bool
	)
	r.members(v, func(name []byte, v *fastjson.Value) {
		var (
			f *string
			i int
		)
		switch string(name) {
		case "timestamp":
			f, i = &b.Timestamp, 0
		case "deviceid":
			f, i = &b.DeviceID, 1
		case "payload":
			f, i = &b.Payload, 2
		case "devicetype":
			f, i = &b.DeviceType, 3
		default:
			r.bad = true
			return
		}
		if r.once(seen[:], i) {
			*f = r.plainStr(v)
		}
	})
	return !r.bad
}
