package replay_test

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// A forwarder plugs into replays with a SinkFactory that builds its live
// handler and learns that the records are historical.
func ExampleSinks() {
	factory := func(ctx context.Context, env replay.SinkEnv) (consume.Handler, error) {
		// A real factory reads its own variables (config.Load) and builds
		// the forwarder's handler, posting as non-realtime when env.Replay.
		return consume.HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
			_ = consume.IsReplay(ctx) // true for every call made by a replay
			return make([]error, len(msgs))
		}), nil
	}
	sinks := replay.Sinks{
		{Name: "enos", Stage: "enos", Inputs: []string{"device.telemetry.v1"}, DLQTopic: "enos.dlq.v1", Factory: factory},
		{Name: "energisme", Stage: "energisme", Inputs: []string{"snoti.events.v1"}, DLQTopic: "energisme.dlq.v1"},
	}
	if _, err := sinks.Lookup("energisme"); err != nil {
		fmt.Println(err)
	}
	sink, _ := sinks.Lookup("enos")
	h, closeSink, err := sink.Build(context.Background(), replay.SinkEnv{})
	fmt.Println(h != nil, err)
	_ = closeSink(context.Background())
	// Output:
	// sink "energisme": sink not available in this build
	// true <nil>
}
