package snoti

import (
	"errors"
	"fmt"
)

// ErrNotConnected is returned by calls that need a logged-in connection
// (Subscribe, Unsubscribe, RemoteControl) when there is none, or when the
// connection was lost before the reply came.
var ErrNotConnected = errors.New("snoti: not connected")

// LoginError is a login the server refused (result false). The usual causes
// are wrong credentials and an egress IP missing from the whitelist.
type LoginError struct {
	Msg string // the server's msg, as sent
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("snoti login refused (server said %q): check the credentials, and that this host's egress IP is on the whitelist in the Gizwits console", e.Msg)
}

// ReplyError is a subscribe or unsubscribe request the server answered
// with result false.
type ReplyError struct {
	Cmd string
	Msg string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("snoti %s refused: %s", e.Cmd, e.Msg)
}
