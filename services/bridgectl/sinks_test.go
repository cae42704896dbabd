package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

	sim, mapping := startEnOS(t)
	writeMapping(t, mapping, "pk-ev")
	var msgs []kafka.Message
	for i := 0; i < 40; i++ {
		msgs = append(msgs, voltage(t, codec, i, "pk-ev"))
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

// TestRedriveAfterMappingFix: telemetry of a product the EnOS mapping
// lacks is dead-lettered (no_mapping) by a replay; once the mapping has the
// product, a redrive delivers the dead letters to EnOS as backfill.
func TestRedriveAfterMappingFix(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.Telemetry = kafkatest.Topic(t, ta.brokers, 2)
	ta.cfg.Topics.Events = kafkatest.Topic(t, ta.brokers, 1)
	ta.cfg.Topics.EnosDLQ = kafkatest.Topic(t, ta.brokers, 1)
	sim, mapping := startEnOS(t)
	writeMapping(t, mapping, "pk-ev")
	var msgs []kafka.Message
	for i := 0; i < 12; i++ {
		pk := "pk-ev"
		if i%3 == 0 {
			pk = "pk-new" // not in the mapping yet
		}
		msgs = append(msgs, voltage(t, codec, i, pk))
	}
	produce(ctx, t, ta, ta.cfg.Topics.Telemetry, msgs...)

	if code := ta.run(ctx, t, "replay", "--sink", "enos"); code != exitOK {
		t.Fatalf("replay: exit %d", code)
	}
	if len(sim.Points()) != 8 {
		t.Fatalf("EnOS got %d points, want the 8 mapped ones", len(sim.Points()))
	}
	if code := ta.run(ctx, t, "dlq", "list", "--topic", ta.cfg.Topics.EnosDLQ); code != exitOK || !strings.Contains(ta.out.String(), "no_mapping") {
		t.Fatalf("dlq list: exit %d\n%s", code, ta.out)
	}

	writeMapping(t, mapping, "pk-ev", "pk-new") // the fix
	sim.Reset()
	if code := ta.run(ctx, t, "dlq", "redrive", "--topic", ta.cfg.Topics.EnosDLQ, "--filter", "reason=no_mapping", "--execute"); code != exitOK {
		t.Fatalf("redrive: exit %d", code)
	}
	var got []float64
	for _, p := range sim.Points() {
		v, _ := p.Value.(float64)
		got = append(got, v)
		if p.Realtime || p.ProductKey != "EV" {
			t.Errorf("redriven point %+v: want product EV, not realtime", p)
		}
	}
	slices.Sort(got)
	if want := []float64{0, 3, 6, 9}; !slices.Equal(got, want) {
		t.Errorf("redrive delivered %v, want %v", got, want)
	}
}

// startEnOS serves the EnOS emulator and points the ENOS_* variables at it;
// the mapping file is written with writeMapping.
func startEnOS(t *testing.T) (*sinksim.EnOS, string) {
	t.Helper()
	sim, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	mapping := filepath.Join(t.TempDir(), "mapping.json")
	for k, v := range map[string]string{
		"ENOS_APIM_URL": srv.URL, "ENOS_API_URL": srv.URL, "ENOS_ACCESS_KEY": "ak", "ENOS_SECRET_KEY": "sk",
		"ENOS_ORG_ID": "org", "ENOS_MAPPING_FILE": mapping, "ENOS_REQUEST_TIMEOUT": "5s",
	} {
		t.Setenv(k, v)
	}
	return sim, mapping
}

// writeMapping maps each Gizwits product to EnOS product EV, point
// voltage to Voltage.
func writeMapping(t *testing.T, path string, products ...string) {
	t.Helper()
	var entries []string
	for _, p := range products {
		entries = append(entries, fmt.Sprintf(`%q: {"enos_product_key": "EV", "points": {"voltage": "Voltage"}}`, p))
	}
	if err := os.WriteFile(path, []byte(`{"products": {`+strings.Join(entries, ",")+`}}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

// voltage is telemetry record i of product pk: voltage i on device
// dev<i%5>, stamped t0+i min.
func voltage(t *testing.T, codec *records.Codec, i int, pk string) kafka.Message {
	t.Helper()
	did := fmt.Sprintf("dev%d", i%5)
	at := t0.Add(time.Duration(i) * time.Minute)
	m, err := codec.Message("", []byte(did), &records.DeviceTelemetry{
		EventID: fmt.Sprintf("ev-%03d", i), ProductKey: pk, DID: did, Time: at, ReceivedAt: at,
		Source: "device_status_raw", Codec: "standard", Kind: "status_report",
		Points: []records.DataPoint{{Name: "voltage", Value: float64(i)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Time = at
	return m
}
