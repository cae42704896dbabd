package gizwits

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
