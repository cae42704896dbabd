package codecs

import (
	"errors"

	"github.com/snotibridge/snotibridge/pkg/devcodec"
	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// Errors of the registry itself; decode errors also wrap those of gizwits
// and devcodec. Match with errors.Is, or classify with ReasonOf.
var (
	// ErrNoCodec: no codec file for the product_key.
	ErrNoCodec = errors.New("no codec for product")
	// ErrUnknownAction: the P0 action is not a status of the product's
	// protocol (0x06 transparent data included) and the product has no custom
	// codec. The Result returned with it carries the frame and action.
	ErrUnknownAction = errors.New("unknown action")
)

// Reason is a short, stable label for why a payload could not be decoded,
// for dead-letter records and metrics.
type Reason string

// Reasons, from most to least specific.
const (
	ReasonNone           Reason = ""
	ReasonNoCodec        Reason = "no_codec"
	ReasonTooShort       Reason = "too_short"
	ReasonLengthMismatch Reason = "length_mismatch"
	ReasonMalformedFrame Reason = "malformed_frame"
	ReasonUnknownAction  Reason = "unknown_action"
	ReasonUnknownMessage Reason = "unknown_message"
	ReasonValueMismatch  Reason = "value_mismatch"
	ReasonOther          Reason = "decode_error"
)

// ReasonOf classifies an error of Decode or DecodeKV.
func ReasonOf(err error) Reason {
	switch {
	case err == nil:
		return ReasonNone
	case errors.Is(err, ErrNoCodec):
		return ReasonNoCodec
	case errors.Is(err, gizwits.ErrTooShort), errors.Is(err, devcodec.ErrTooShort):
		return ReasonTooShort
	case errors.Is(err, gizwits.ErrLengthMismatch), errors.Is(err, devcodec.ErrLengthMismatch):
		return ReasonLengthMismatch
	case errors.Is(err, gizwits.ErrMalformedFrame):
		return ReasonMalformedFrame
	case errors.Is(err, ErrUnknownAction):
		return ReasonUnknownAction
	case errors.Is(err, devcodec.ErrUnknownMessage):
		return ReasonUnknownMessage
	case errors.Is(err, gizwits.ErrValueMismatch):
		return ReasonValueMismatch
	}
	return ReasonOther
}
