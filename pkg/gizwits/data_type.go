package gizwits

import (
	"encoding/json"
	"fmt"
)

// DataType is an attr's data_type.
type DataType string

// Data types of the Gizwits console.
const (
	Bool   DataType = "bool"
	Enum   DataType = "enum"
	Uint8  DataType = "uint8"
	Uint16 DataType = "uint16"
	Uint32 DataType = "uint32"
	Binary DataType = "binary"
)

// isBits reports whether the type lives in the bit-field bytes.
func (t DataType) isBits() bool { return t == Bool || t == Enum }

// byteLen returns the fixed byte length of a uint type, 0 for others.
func (t DataType) byteLen() int {
	switch t {
	case Uint8:
		return 1
	case Uint16:
		return 2
	case Uint32:
		return 4
	}
	return 0
}

// AttrType is an attr's type, which is also its area in a standard status.
type AttrType string

// Attr types in area order.
const (
	StatusWritable AttrType = "status_writable"
	StatusReadonly AttrType = "status_readonly"
	Alert          AttrType = "alert"
	Fault          AttrType = "fault"
)

// attrTypeLetters are the one-letter spellings of the Gizwits Enterprise
// API's datapoint call (GET /v1/products/{product_key}/datapoint): "W"
// read/write, "R" read only, "N" alarm, "E" fault. The console export spells
// the same types out.
var attrTypeLetters = map[string]AttrType{"W": StatusWritable, "R": StatusReadonly, "N": Alert, "E": Fault}

// UnmarshalJSON reads either spelling of an attr type, so a definition
// fetched from the Enterprise API loads like a console export.
func (t *AttrType) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("attr type: want a string: %w", err)
	}
	if long, ok := attrTypeLetters[s]; ok {
		*t = long
		return nil
	}
	*t = AttrType(s)
	return nil
}
