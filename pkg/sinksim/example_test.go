package sinksim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// An integration test starts the emulators in-process on 127.0.0.1:0,
// points the clients (or a forwarder's config) at them, injects faults and
// waits for what arrived.
func ExampleStack() {
	stack, err := sinksim.NewStack(sinksim.StackConfig{
		EnOS:      sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"},
		Energisme: sinksim.EnergismeConfig{Token: "tok"},
	}, zerolog.Nop())
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(stack) // ENOS_APIM_URL = ENOS_API_URL = srv.URL, ENERGISME_URL = srv.URL + "/push"
	defer srv.Close()

	client, err := enos.New(enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "ak", SecretKey: "sk", OrgID: "org"}, zerolog.Nop())
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	entry := enos.MeasurepointEntry{Device: enos.Device{ProductKey: "pk", DeviceKey: "dk"}, Time: time.UnixMilli(1700000000123), Measurepoints: map[string]any{"temp": 21.5}}

	// The sink is down for the next request: the failure is retryable.
	_ = stack.EnOS.Faults().Set(sinksim.FaultConfig{Status: 503, Next: 1, RetryAfter: 2 * time.Second})
	retryAfter, retryable := sinkerr.Retryable(client.PostMeasurepoints(ctx, []enos.MeasurepointEntry{entry}).Err())
	fmt.Println("retryable:", retryable, "after", retryAfter)

	// It is back: the point arrives.
	fmt.Println("accepted:", client.PostMeasurepoints(ctx, []enos.MeasurepointEntry{entry}).OK())
	if err := stack.EnOS.WaitPoints(ctx, 1); err != nil {
		panic(err)
	}
	p := stack.EnOS.Points()[0]
	fmt.Println(p.ProductKey, p.DeviceKey, p.PointID, p.Value, p.Time)
	// Output:
	// retryable: true after 2s
	// accepted: true
	// pk dk temp 21.5 1700000000123
}
