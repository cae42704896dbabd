// Package devcodec decodes a device's own binary protocol (the transparent
// data of products that do not use Gizwits data points) from a declarative
// JSON spec, so supporting a new device model is configuration, not code.
//
// A spec lists messages; each message lists fields by byte offset, length
// and type (u8…u64, i8…i64, f32, f64, bits, bytes, ascii), with a byte order,
// a scale and addition (value = raw × scale + add) and enum labels. A
// dispatch on header bytes (offset, length) selects the message kind:
//
//	{
//	  "name": "Heat meter HM-2",
//	  "byte_order": "big",
//	  "dispatch": {"offset": 0},
//	  "messages": [
//	    {"name": "measurement", "match": 1, "fields": [
//	      {"name": "temp", "offset": 1, "type": "i16", "scale": 0.1},
//	      {"name": "energy", "offset": 3, "type": "u32", "byte_order": "little", "scale": 0.001},
//	      {"name": "state", "offset": 7, "type": "u8", "enum": {"0": "idle", "1": "heating"}},
//	      {"name": "door_open", "offset": 8, "type": "bits", "bit": 0},
//	      {"name": "serial", "offset": 9, "length": 4, "type": "bytes"},
//	      {"name": "model", "offset": 13, "length": 8, "type": "ascii"}
//	    ]}
//	  ]
//	}
//
// Values are typed like data points (package value): integers unscaled (scale
// 1, whole add) are Int (u64: Uint), scaled ones the Float nearest the exact
// decimal, floats Float (f32 at its shortest decimal, 1.1 not
// 1.100000023841858), a one-bit field without labels Bool, labels and ascii
// String, bytes lower-case hex String. Encode is the inverse, for
// simulators and tests. Parse checks the whole spec and names
// every problem with its path (messages[1].fields[3] "temp": length 3
// invalid for i16).
package devcodec
