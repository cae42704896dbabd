package sinksim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/energisme"
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
// emulator over loopback HTTP, pushes in parallel.
func BenchmarkEnergismePush(b *testing.B) {
	emu, err := sinksim.NewEnergisme(sinksim.EnergismeConfig{Token: "tok"}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	c, err := energisme.New(energisme.Config{URL: srv.URL + "/push", Token: "tok"}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	up := energisme.Uplink{Time: time.Now(), DeviceID: "d1", Payload: []byte{1, 2, 3, 4, 5, 6, 7, 8}, DeviceType: "t"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Push(context.Background(), up); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
