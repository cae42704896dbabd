package gizwits

import "fmt"

// Action is the first byte of P0.
type Action byte

// P0 actions, standard and var_len.
const (
	ActionControl            Action = 0x01
	ActionReadStatus         Action = 0x02
	ActionReadReply          Action = 0x03
	ActionStatusReport       Action = 0x04
	ActionTransparent        Action = 0x06
	ActionVarLenControl      Action = 0x11
	ActionVarLenReadStatus   Action = 0x12
	ActionVarLenReadReply    Action = 0x13
	ActionVarLenStatusReport Action = 0x14
)

// String returns the action in hex, e.g. "0x04".
func (a Action) String() string { return fmt.Sprintf("0x%02x", byte(a)) }
