package gizwits

import "github.com/snotibridge/snotibridge/pkg/value"

// Kind says what a Message holds.
type Kind uint8

// Message kinds.
const (
	// KindStatus: a status report or read reply, decoded into Fields.
	KindStatus Kind = iota + 1
	// KindTransparent: action 0x06, the device's own protocol in Payload.
	KindTransparent
	// KindOpaque: any other action (control, read request, unknown, or the
	// other protocol's status); Payload is kept untouched.
	KindOpaque
)

func (k Kind) String() string {
	switch k {
	case KindStatus:
		return "status"
	case KindTransparent:
		return "transparent"
	case KindOpaque:
		return "opaque"
	}
	return "invalid"
}

// Message is one decoded P0.
type Message struct {
	Frame   Frame // Frame.Framed is false for a bare P0
	Action  Action
	Kind    Kind
	Payload []byte // P0 after the action byte; aliases the input
	// Fields are the decoded values in definition order (var_len: the
	// flagged attrs in id order). Empty unless Kind is KindStatus.
	Fields []value.Field
}
