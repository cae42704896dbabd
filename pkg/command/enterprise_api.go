package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// EnterpriseAPI sends commands through the Gizwits Enterprise API's control
// call (POST /v1/products/{product_key}/devices/{did}/control), for
// enterprises on SNoti v1, whose connection cannot carry commands.
type EnterpriseAPI struct {
	Client *gizwitsapi.Client
}

// Name implements Path.
func (EnterpriseAPI) Name() string { return PathEnterpriseAPI }

// Send implements Path: write_attrs as {"attrs":…} (extension points as
// byte arrays), write and write_v1 as {"raw":[…]}.
func (e EnterpriseAPI) Send(ctx context.Context, cmd *records.DeviceCommand) (Outcome, error) {
	var c gizwitsapi.Control
	if cmd.Kind == records.CommandWriteAttrs {
		c.Attrs = attrsMap(cmd.Attrs)
	} else {
		c.Raw = cmd.Raw
		if c.Raw == nil {
			c.Raw = []byte{}
		}
	}
	err := e.Client.Control(ctx, cmd.ProductKey, cmd.DID, c)
	if err == nil {
		return Outcome{Succeeded: true}, nil
	}
	var ae *gizwitsapi.APIError
	if errors.As(err, &ae) && !ae.Temporary() {
		return Outcome{Reason: fmt.Sprintf("error_code %d: %s", ae.Code, ae.Message)}, nil
	}
	return Outcome{}, err
}

// attrsMap is the attrs object of a control request; binary values become
// byte arrays, the form Gizwits documents as the safest.
func attrsMap(attrs []records.DataPoint) map[string]any {
	m := make(map[string]any, len(attrs))
	for _, a := range attrs {
		if b, ok := a.Value.([]byte); ok {
			arr := make([]int, len(b))
			for i, x := range b {
				arr[i] = int(x)
			}
			m[a.Name] = arr
			continue
		}
		m[a.Name] = a.Value
	}
	return m
}
