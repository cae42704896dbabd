package kafkatest

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// waitReady polls until the broker answers a metadata request with itself as
// controller, or ctx ends, or exited is closed (the process died).
func waitReady(ctx context.Context, addr string, exited <-chan struct{}) error {
	// A transport of its own: the default one is shared and caches
	// connections and metadata of a broker that may just have been killed.
	tr := &kafka.Transport{MetadataTTL: time.Millisecond}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second, Transport: tr}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		resp, err := client.Metadata(ctx, &kafka.MetadataRequest{})
		if err == nil && len(resp.Brokers) > 0 && resp.Controller.ID >= 0 {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("broker on %s exited during start (last error: %v)", addr, last)
		case <-ctx.Done():
			return fmt.Errorf("broker on %s not ready: %w (last error: %v)", addr, ctx.Err(), last)
		case <-tick.C:
		}
	}
}
