package gizwits

// Cmd is the transport frame's command word.
type Cmd uint16

// Transport commands.
const (
	CmdCloudToDevice Cmd = 0x0090 // no ACK
	CmdDeviceToCloud Cmd = 0x0091
	CmdRequest       Cmd = 0x0093 // carries sn
	CmdReply         Cmd = 0x0094 // carries the request's sn
)

// HasSN reports whether frames with this command carry a 4-byte sn.
func (c Cmd) HasSN() bool { return c == CmdRequest || c == CmdReply }
