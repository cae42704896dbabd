package codecs

import (
	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/value"
)

// Source says which codec produced a Result.
type Source string

// Sources.
const (
	SourceStandard Source = "gizwits.standard" // data points, fixed-length status
	SourceVarLen   Source = "gizwits.var_len"  // data points, variable-length status
	SourceCustom   Source = "custom"           // the product's custom codec
	SourceOpaque   Source = "opaque"           // not decoded (see ErrUnknownAction)
	SourceKV       Source = "kv"               // device_status_kv typed by DecodeKV
)

// Result is one decoded payload.
type Result struct {
	ProductKey string
	Source     Source
	// Frame is the transport header (Framed false for bare bytes); its P0
	// aliases the raw input.
	Frame  gizwits.Frame
	Action gizwits.Action // P0 action; 0 for a custom-only product or kv
	// Message is the custom codec's message kind ("" otherwise).
	Message string
	// Fields are the typed values in codec order.
	Fields []value.Field
}
