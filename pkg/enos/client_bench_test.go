package enos_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// BenchmarkPostMeasurepoints is the client's own cost of posting a batch:
// 250 entries of 9 points (the EV charger's status report), encoded as
// JSON and multipart and posted to a server that reads the body and
// accepts it (the emulator serves only the token, so that its own
// validation and storage are not measured). allocs/op and B/op are per
// batch.
func BenchmarkPostMeasurepoints(b *testing.B) {
	sim, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{accessKey: secretKey}, OrgID: orgID}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/apim-token-service/", sim)
	mux.HandleFunc(enos.IntegrationPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"code":0,"msg":"OK","requestId":"r"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := enos.New(enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: accessKey, SecretKey: secretKey, OrgID: orgID}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]enos.MeasurepointEntry, 250)
	t0 := time.UnixMilli(1700000000000)
	for i := range entries {
		entries[i] = enos.MeasurepointEntry{
			Device: enos.Device{ProductKey: "pk-ev", DeviceKey: fmt.Sprintf("dev-%02d", i%50)}, Time: t0.Add(time.Duration(i) * time.Millisecond),
			Measurepoints: map[string]any{"charge_enable": true, "mode": "auto", "current_limit": int64(32), "plug_connected": true,
				"state": "charging", "voltage": 230.1, "current": 16.02, "energy_kwh": 12.345, "temperature": int64(35)},
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for i, err := range c.PostMeasurepoints(ctx, entries).Errs {
			if err != nil {
				b.Fatalf("entry %d: %v", i, err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "entries/s")
}
