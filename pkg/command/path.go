package command

import (
	"context"

	"github.com/snotibridge/snotibridge/pkg/records"
)

// Outcome is Gizwits' answer to a command that reached it.
type Outcome struct {
	// Succeeded: accepted for an online device. Otherwise Reason says why
	// it was refused.
	Succeeded bool
	Reason    string
}

// Path sends commands to devices one way. Send blocks until Gizwits
// answered or ctx ended; it may be called concurrently for different
// devices. An error means the command's fate is unknown or it could not be
// sent (Gizwits unreachable, 5xx, timeout): the caller retries it. A refusal
// of the command itself is an Outcome, not an error.
type Path interface {
	Name() string
	Send(ctx context.Context, cmd *records.DeviceCommand) (Outcome, error)
}

// Path names used in results.
const (
	PathSNoti         = "snoti"
	PathEnterpriseAPI = "enterprise_api"
)
