package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestChainSimIngestDecoder pushes frames the test encodes with known values
// through snoti-sim, the ingest (a real process) and the decoder, restarts
// the decoder mid-stream, and checks every value of every frame, for every
// data type of the example product, and the dead letters of bad payloads.
func TestChainSimIngestDecoder(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	events := kafkatest.Topic(t, brokers, 3)
	invalid := kafkatest.Topic(t, brokers, 1)
	telemetry := kafkatest.Topic(t, brokers, 3)
	dlq := kafkatest.Topic(t, brokers, 1)

	defJSON, err := os.ReadFile("codecs/" + evCharger + ".json")
	if err != nil {
		t.Fatal(err)
	}
	def, err := gizwits.Parse(defJSON)
	if err != nil {
		t.Fatal(err)
	}

	sim, ca := simtest.Start(t, snotisim.Config{Addr: "127.0.0.1:0", Enterprises: []snotisim.Enterprise{{ID: "e", Secret: "s"}}})

	// Each frame carries its index in session_id (binary), so telemetry can
	// be matched to the values that were encoded.
	const n, bad = 1500, 30
	rng := rand.New(rand.NewPCG(1, 2))
	modes := []string{"auto", "manual", "scheduled"}
	states := []string{"idle", "connected", "charging", "finished", "error"}
	want := map[string]map[string]string{}
	var evs []snotisim.Event
	for i := 0; i < n; i++ {
		sid := make([]byte, 8)
		binary.BigEndian.PutUint64(sid, uint64(i))
		v := map[string]any{
			"charge_enable": rng.IntN(2) == 1, "mode": modes[rng.IntN(3)], "current_limit": 6 + rng.IntN(27),
			"plug_connected": rng.IntN(2) == 1, "state": states[rng.IntN(5)], "voltage": float64(rng.IntN(5001)) / 10,
			"current": float64(rng.IntN(10001)) / 100, "energy_kwh": float64(rng.IntN(4_000_000)) / 1000,
			"temperature": -40 + rng.IntN(201), "session_id": sid,
			"alert_overtemp": rng.IntN(2) == 1, "alert_overcurrent": rng.IntN(2) == 1, "fault_ground": rng.IntN(2) == 1, "fault_relay": rng.IntN(2) == 1,
		}
		frame, err := def.EncodeStatus(v)
		if err != nil {
			t.Fatal(err)
		}
		exp := map[string]string{}
		for k, x := range v {
			exp[k] = fmt.Sprint(x)
		}
		exp["session_id"] = hex.EncodeToString(sid)
		want[exp["session_id"]] = exp
		evs = append(evs, snotisim.Event{ProductKey: evCharger, EventType: "device_status_raw", DID: fmt.Sprintf("ev%03d", i%40),
			Fields: map[string]any{"data": map[string]any{"raw": base64.StdEncoding.EncodeToString(frame)}}})
		if i%(n/bad) == 0 {
			evs = append(evs, snotisim.Event{ProductKey: evCharger, EventType: "device_status_raw", DID: "evbad",
				Fields: map[string]any{"data": base64.StdEncoding.EncodeToString(frame[:len(frame)-5])}})
		}
	}
	if _, err := sim.PublishBatch(evs); err != nil {
		t.Fatal(err)
	}

	// The ingest, as a real process.
	ingest := testkit.Start(t, testkit.Build(t, "../ingest"), append(os.Environ(), "KAFKA_BROKERS="+brokers[0], "SNOTI_ADDR="+sim.Addr(), "SNOTI_PROTOCOL=v1",
		"SNOTI_ENTERPRISE_ID=e", "SNOTI_ENTERPRISE_SECRET=s", "SNOTI_CA_FILE="+ca, "SNOTI_PREFETCH=500",
		"TOPIC_EVENTS="+events, "TOPIC_INVALID="+invalid, "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn"))
	defer func() { _ = ingest.Process.Signal(syscall.SIGTERM); _, _ = ingest.Process.Wait() }()

	kc := kafkatest.Config(t)
	cfg := Config{
		Base:      service.Base{Kafka: kc, ShutdownTimeout: 30 * time.Second},
		CodecsDir: "codecs", TopicEvents: events, TopicTelemetry: telemetry, TopicDLQ: dlq,
		GroupID: events + "-decoder", BatchSize: 200,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	startDecoder := func() (stop func()) {
		return testkit.RunInProcess(t, "decoder", func(ctx context.Context) error { return run(ctx, cfg, zerolog.Nop()) })
	}

	codec, _ := records.NewCodec()
	tr := kafkatest.NewReader(t, brokers, telemetry)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	got := map[string]bool{}
	stop := startDecoder()
	restarted := false
	for len(got) < n {
		if !restarted && len(got) >= n/3 {
			stop() // mid-stream
			stop = startDecoder()
			restarted = true
		}
		m, err := tr.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading telemetry: %d of %d frames: %v", len(got), n, err)
		}
		var tel records.DeviceTelemetry
		if err := codec.Unmarshal(m.Value, &tel); err != nil {
			t.Fatal(err)
		}
		vals := map[string]string{}
		for _, p := range tel.Points {
			vals[p.Name] = fmt.Sprint(p.Value)
		}
		exp, ok := want[vals["session_id"]]
		if !ok {
			t.Fatalf("telemetry for an unknown session_id %q", vals["session_id"])
		}
		if got[vals["session_id"]] {
			continue // a duplicate after the restart; values were checked the first time
		}
		for k, w := range exp {
			if vals[k] != w {
				t.Errorf("frame %s: %s = %s, want %s", vals["session_id"], k, vals[k], w)
			}
		}
		got[vals["session_id"]] = true
	}
	stop()

	reasons := map[string]int{}
	for _, m := range kafkatest.ReadN(t, brokers, dlq, bad, time.Minute) {
		var dl records.DeadLetter
		if err := codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		reasons[dl.Reason]++
	}
	if reasons["length_mismatch"]+reasons["too_short"] != bad {
		t.Errorf("dead letters by reason %v, want %d truncated frames", reasons, bad)
	}
	t.Logf("%d frames decoded with every value as encoded across a decoder restart; %d truncated frames dead-lettered %v", n, bad, reasons)
}
