package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// BenchmarkPushKafkaToEmulator measures the push part end to end, the way
// the no-op copy reference (pkg/consume BenchmarkNoopCopy) is measured: a
// fresh consumer group reads n raw events written beforehand and pushes
// them to the in-process emulator (loopback HTTP, ENERGISME_CONCURRENCY=8,
// 200 devices), timed from the forwarder's start (group join included) to
// the last uplink; n is large enough that the join is a small part of it.
// It reports uplinks per second.
func BenchmarkPushKafkaToEmulator(b *testing.B) {
	const n, devices = 30_000, 200
	e := newEnv(b, false)
	base := time.Now().UTC().Add(-time.Hour)
	in := make([]kafka.Message, 0, n)
	for i := range n {
		in = append(in, e.rawEvent(fmt.Sprint(i), "device_status_raw", evCharger, fmt.Sprintf("dev%d", i%devices), "", base.Add(time.Duration(i)*time.Millisecond),
			[]byte{0, 0, 0, 3, 0x0C, 0, 0, 0x91, 0x04, byte(i >> 8), byte(i), 0xC3, 0x01}))
	}
	e.write(e.events, in)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		e.stack.Energisme.Reset()
		start := time.Now()
		_, stop := e.start(e.config(fmt.Sprintf("%s-bench-%d", e.events, i), true, false))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := e.stack.Energisme.WaitFor(ctx, func(s *sinksim.Energisme) bool { return s.Stats().Accepted >= n })
		cancel()
		total += time.Since(start)
		b.StopTimer()
		stop()
		if err != nil || distinctPayloads(e.stack.Energisme) != n {
			b.Fatalf("%d of %d distinct uplinks: %v", distinctPayloads(e.stack.Energisme), n, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "uplinks/s")
}
