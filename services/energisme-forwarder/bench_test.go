package main

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// BenchmarkPushKafkaToEmulator measures the push part end to end, the way
// the no-op copy reference (pkg/consume BenchmarkNoopCopy) is measured: a
// fresh consumer group reads n raw events written beforehand and pushes
// them to the in-process emulator (loopback HTTP, the default
// ENERGISME_CONCURRENCY, 200 devices), timed from the forwarder's start (group join included) to
// the last uplink; n is large enough that the join is a small part of it.
// It reports uplinks per second and the process's CPU time per uplink
// (forwarder and emulator together, the broker aside), which says more
// than the rate when other work shares the machine.
func BenchmarkPushKafkaToEmulator(b *testing.B) {
	const n = 30_000
	e := newEnv(b, false)
	total, cpu := benchPush(b, e, n, energismefwd.DefaultConcurrency)
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "uplinks/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/uplink")
}

// BenchmarkPushAtRoundTrip measures the push to an emulator that answers
// each request 20 ms late, as an Energisme across a WAN would: one uplink
// per request makes the rate about ENERGISME_CONCURRENCY per round trip,
// whatever the CPU. It reports uplinks/s for 8 in flight (the default
// before it was raised) and for the default.
func BenchmarkPushAtRoundTrip(b *testing.B) {
	const rtt = 20 * time.Millisecond
	for _, concurrency := range []int{8, energismefwd.DefaultConcurrency} {
		b.Run(fmt.Sprintf("rtt=%s/concurrency=%d", rtt, concurrency), func(b *testing.B) {
			n := 25 * concurrency // 25 round trips' worth: long enough, and a few seconds at most
			e := newEnv(b, false)
			if err := e.stack.Energisme.Faults().Set(sinksim.FaultConfig{Latency: rtt}); err != nil {
				b.Fatal(err)
			}
			total, _ := benchPush(b, e, n, concurrency)
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "uplinks/s")
		})
	}
}

// benchPush writes n raw events of 200 devices, then b.N times pushes
// them all with a fresh consumer group and concurrency in flight, timed
// from the forwarder's start (group join included) to the last uplink at
// the emulator; it returns that time and the process's CPU over it.
func benchPush(b *testing.B, e *env, n, concurrency int) (total, cpu time.Duration) {
	const devices = 200
	base := time.Now().UTC().Add(-time.Hour)
	in := make([]kafka.Message, 0, n)
	for i := range n {
		in = append(in, e.rawEvent(fmt.Sprint(i), "device_status_raw", evCharger, fmt.Sprintf("dev%d", i%devices), "", base.Add(time.Duration(i)*time.Millisecond),
			[]byte{0, 0, 0, 3, 0x0C, 0, 0, 0x91, 0x04, byte(i >> 8), byte(i), 0xC3, 0x01}))
	}
	e.write(e.events, in)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.stack.Energisme.Reset()
		cfg := e.config(fmt.Sprintf("%s-bench-%d", e.events, i), true, false)
		cfg.Push.Concurrency = concurrency
		start, cpu0 := time.Now(), processCPU(b)
		_, stop := e.start(cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := e.stack.Energisme.WaitFor(ctx, func(s *sinksim.Energisme) bool { return s.Stats().Accepted >= n })
		cancel()
		total += time.Since(start)
		cpu += processCPU(b) - cpu0
		b.StopTimer()
		stop()
		if err != nil || distinctPayloads(e.stack.Energisme) != n {
			b.Fatalf("%d of %d distinct uplinks: %v", distinctPayloads(e.stack.Energisme), n, err)
		}
		b.StartTimer()
	}
	return total, cpu
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
