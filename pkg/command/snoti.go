package command

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// RemoteController is what the SNoti path needs of a logged-in SNoti v2
// client: *snoti.Client.
type RemoteController interface {
	RemoteControl(ctx context.Context, req snoti.RemoteControlRequest) (*snoti.RemoteControlResult, error)
}

// SNoti sends commands as remote_control_v2_req on the ingest's own SNoti
// v2 connections: those connections are logged in for the products the
// ingest reads, so no second login (which would split the ingest's push
// stream) and no extra subkey (whose queue would fill for three days) is
// needed. Commands go out on the clients in turn; a client that is not
// connected passes the command to the next.
type SNoti struct {
	Clients []RemoteController
	// Timeout bounds the wait for remote_control_v2_res (default 10 s).
	Timeout time.Duration
	next    atomic.Uint64
}

// Name implements Path.
func (*SNoti) Name() string { return PathSNoti }

// Send implements Path. Binary data goes as byte arrays, the form the
// official doc calls the safest.
func (s *SNoti) Send(ctx context.Context, cmd *records.DeviceCommand) (Outcome, error) {
	if len(s.Clients) == 0 {
		return Outcome{}, errors.New("no SNoti connection")
	}
	rc := snoti.RemoteCommand{Cmd: cmd.Kind, DID: cmd.DID, MAC: cmd.MAC, ProductKey: cmd.ProductKey}
	if cmd.Kind == records.CommandWriteAttrs {
		rc.Attrs = make(map[string]any, len(cmd.Attrs))
		for _, a := range cmd.Attrs {
			rc.Attrs[a.Name] = a.Value
		}
	} else {
		rc.Raw = cmd.Raw
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var lastErr error
	start := s.next.Add(1)
	for i := range s.Clients {
		c := s.Clients[(int(start)+i)%len(s.Clients)]
		cctx, cancel := context.WithTimeout(ctx, timeout)
		res, err := c.RemoteControl(cctx, snoti.RemoteControlRequest{Commands: []snoti.RemoteCommand{rc}})
		cancel()
		if errors.Is(err, snoti.ErrNotConnected) {
			lastErr = err
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		for _, d := range res.Succeed {
			if d == cmd.DID {
				return Outcome{Succeeded: true}, nil
			}
		}
		for _, f := range res.Failed {
			if f.DID == cmd.DID {
				return Outcome{Reason: f.Reason}, nil
			}
		}
		return Outcome{Reason: fmt.Sprintf("the answer names neither succeed nor failed for %s", cmd.DID)}, nil
	}
	return Outcome{}, lastErr
}
