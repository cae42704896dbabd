package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// TestReplayIntoEnOSEmulator replays a time range of telemetry with the
// EnOS forwarder's own handler into the EnOS emulator: exactly the points
// stamped in the range arrive, all flagged as backfill (non-realtime).
func TestReplayIntoEnOSEmulator(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.Telemetry = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.Events = kafkatest.Topic(t, ta.brokers, 1)
	ta.cfg.Topics.EnosDLQ = kafkatest.Topic(t, ta.brokers, 1)

	sim, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	mapping := filepath.Join(t.TempDir(), "mapping.json")
	if err := os.WriteFile(mapping, []byte(`{"products": {"pk-ev": {"enos_product_key": "EV", "points": {"voltage": "Voltage"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"ENOS_APIM_URL": srv.URL, "ENOS_API_URL": srv.URL, "ENOS_ACCESS_KEY": "ak", "ENOS_SECRET_KEY": "sk",
		"ENOS_ORG_ID": "org", "ENOS_MAPPING_FILE": mapping, "ENOS_REQUEST_TIMEOUT": "5s",
	} {
		t.Setenv(k, v)
	}

	var msgs []kafka.Message
	for i := 0; i < 40; i++ {
		did := fmt.Sprintf("dev%d", i%5)
		at := t0.Add(time.Duration(i) * time.Minute)
		m, err := codec.Message("", []byte(did), &records.DeviceTelemetry{
			EventID: fmt.Sprintf("ev-%03d", i), ProductKey: "pk-ev", DID: did, Time: at, ReceivedAt: at,
			Source: "device_status_raw", Codec: "standard", Kind: "status_report",
			Points: []records.DataPoint{{Name: "voltage", Value: float64(i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		m.Time = at
		msgs = append(msgs, m)
	}
	produce(ctx, t, ta, ta.cfg.Topics.Telemetry, msgs...)

	from, to := t0.Add(10*time.Minute).Format(time.RFC3339), t0.Add(30*time.Minute).Format(time.RFC3339)
	if code := ta.run(ctx, t, "replay", "--sink", "enos", "--from", from, "--to", to); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var got []float64
	for _, p := range sim.Points() {
		v, _ := p.Value.(float64)
		got = append(got, v)
		i := int(v)
		if p.Realtime || p.ProductKey != "EV" || p.PointID != "Voltage" || p.DeviceKey != fmt.Sprintf("dev%d", i%5) ||
			p.Time != t0.Add(time.Duration(i)*time.Minute).UnixMilli() {
			t.Errorf("point %+v: want EV/dev%d Voltage at t0+%dm, not realtime", p, i%5, i)
		}
	}
	slices.Sort(got)
	var want []float64
	for i := 10; i < 30; i++ {
		want = append(want, float64(i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("EnOS got points %v, want %v", got, want)
	}
}
