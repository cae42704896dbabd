package sinksim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// BenchmarkEnOSPost measures the EnOS client against the emulator over
// loopback HTTP, 100 points per request.
func BenchmarkEnOSPost(b *testing.B) {
	emu, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	c, err := enos.New(enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "ak", SecretKey: "sk", OrgID: "o"}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]enos.MeasurepointEntry, 100)
	for i := range entries {
		entries[i] = enos.MeasurepointEntry{Device: enos.Device{ProductKey: "pk", DeviceKey: fmt.Sprint("d", i)}, Time: time.Now(), Measurepoints: map[string]any{"temp": 21.5, "on": true}}
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if res := c.PostMeasurepoints(ctx, entries); !res.OK() {
			b.Fatal(res.Err())
		}
	}
	b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkEnergismePush measures the Energisme client against the
// emulator over loopback HTTP with as many pushes in flight as the
// forwarder has by default (ENERGISME_CONCURRENCY), and nothing else: no
// Kafka, no decoding. It is the HTTP ceiling of the forwarder's push on this machine
// (make bench's summary compares the forwarder with it), in uplinks per
// second and CPU per uplink (client and emulator, both in this process).
func BenchmarkEnergismePush(b *testing.B) {
	const inFlight = energismefwd.DefaultConcurrency
	emu, err := sinksim.NewEnergisme(sinksim.EnergismeConfig{Token: "tok"}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	c, err := energisme.New(energisme.Config{URL: srv.URL + "/push", Token: "tok", MaxInFlight: inFlight}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	up := energisme.Uplink{Time: time.Now(), DeviceID: "d1", Payload: []byte{0, 0, 0, 3, 0x0C, 0, 0, 0x91, 0x04, 1, 2, 0xC3, 0x01}, DeviceType: "t"}
	var next atomic.Int64
	cpu0 := processCPU(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := c.Push(context.Background(), up); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uplinks/s")
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/uplink")
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
