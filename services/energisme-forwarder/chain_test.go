package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestChainSNotiToEnergismeWhileEnOSIsDown: raw events pushed by snoti-sim
// go through the real ingest program and reach the Energisme emulator with
// the exact bytes, device id, devicetype and timestamp, while the real
// enos-forwarder, consuming the same topic in its own group, is stuck on an
// EnOS that answers 503 to everything.
func TestChainSNotiToEnergismeWhileEnOSIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ingest and enos-forwarder")
	}
	const (
		enterprise, secret = "ent-energisme", "ent-secret"
		devices, perDevice = 12, 25
		bound              = 2 * time.Minute
	)
	e := newEnv(t, false)
	brokers := e.kc.Brokers

	// EnOS is down for good: every data request gets 503.
	enos := e.stack.EnOS
	if err := enos.Faults().Set(sinksim.FaultConfig{Status: 503}); err != nil {
		t.Fatal(err)
	}

	sim, ca := simtest.Start(t, snotisim.Config{
		Addr:        "127.0.0.1:0",
		Enterprises: []snotisim.Enterprise{{ID: enterprise, Secret: secret}},
		Products:    []snotisim.Product{{ProductKey: evCharger, AuthID: "auth", AuthSecret: "auth-secret"}},
	})
	invalid := kafkatest.Topic(t, brokers, 1)
	telemetry := kafkatest.Topic(t, brokers, 3)
	enosDLQ := kafkatest.Topic(t, brokers, 1)
	enosMapping, err := filepath.Abs(filepath.Join("..", "enos-forwarder", "mapping.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprint(time.Now().UnixNano())
	common := []string{"KAFKA_BROKERS=" + brokers[0], "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=10s"}
	enosGroup := "enos-" + suffix
	startProgram(t, "enos-forwarder", append(common,
		"ENOS_APIM_URL="+e.base, "ENOS_API_URL="+e.base, "ENOS_ACCESS_KEY="+enosAccessKey, "ENOS_SECRET_KEY="+enosSecretKey, "ENOS_ORG_ID="+enosOrgID,
		"ENOS_MAPPING_FILE="+enosMapping, "TOPIC_TELEMETRY="+telemetry, "TOPIC_EVENTS="+e.events, "TOPIC_DLQ="+enosDLQ, "GROUP_ID="+enosGroup))
	startProgram(t, "ingest", append(common,
		"SNOTI_ADDR="+sim.Addr(), "SNOTI_PROTOCOL=v1", "SNOTI_ENTERPRISE_ID="+enterprise, "SNOTI_ENTERPRISE_SECRET="+secret,
		"SNOTI_CA_FILE="+ca, "SNOTI_PREFETCH=500", "TOPIC_EVENTS="+e.events, "TOPIC_INVALID="+invalid))
	group := "energisme-" + suffix
	start := time.Now()
	e.start(e.config(group, true, false))

	// Each device comes online (which EnOS must get, and cannot), then
	// reports raw frames, some with data bare, some as {"raw": …}.
	type want struct{ deviceID, timestamp string }
	expect := map[string]want{}
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	var evs []snotisim.Event
	for d := range devices {
		did := fmt.Sprintf("chain-dev-%02d", d)
		evs = append(evs, snotisim.Event{ProductKey: evCharger, EventType: "device_online", DID: did, MAC: "AA" + did, CreatedAt: base})
		for i := range perDevice {
			frame := []byte{0x00, 0x00, 0x00, 0x03, 0x0C, 0x00, 0x00, 0x91, 0x04, byte(d), byte(i), 0xC3, 0x01}
			at := base.Add(time.Duration(i)*time.Second + time.Duration(d*7+i)*time.Millisecond)
			data := `"` + base64.StdEncoding.EncodeToString(frame) + `"`
			if i%2 == 1 {
				data = `{"raw":` + data + `}`
			}
			evs = append(evs, snotisim.Event{ProductKey: evCharger, EventType: "device_status_raw", DID: did, MAC: "AA" + did, CreatedAt: at,
				FieldsJSON: json.RawMessage(`{"data":` + data + `}`)})
			expect[strings.ToUpper(hex.EncodeToString(frame))] = want{did, at.Format("2006-01-02T15:04:05.000Z")}
		}
	}
	if _, err := sim.PublishBatch(evs); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := e.stack.Energisme.WaitFor(ctx, func(s *sinksim.Energisme) bool { return distinctPayloads(s) == len(expect) }); err != nil {
		t.Fatalf("%d of %d uplinks within %s while EnOS is down: %v", distinctPayloads(e.stack.Energisme), len(expect), bound, err)
	}
	took := time.Since(start)
	lastTS := map[string]string{}
	for _, u := range e.stack.Energisme.Uplinks() {
		w, ok := expect[u.PayloadHex]
		if !ok {
			t.Errorf("unexpected uplink %+v", u)
			continue
		}
		if u.DeviceID != w.deviceID || u.DeviceType != "gizwits-ev-charger" || u.Timestamp != w.timestamp {
			t.Errorf("uplink %s: deviceid %q devicetype %q timestamp %q, want %q gizwits-ev-charger %q", u.PayloadHex, u.DeviceID, u.DeviceType, u.Timestamp, w.deviceID, w.timestamp)
		}
		if prev, ok := lastTS[u.DeviceID]; ok && u.Timestamp < prev {
			t.Errorf("device %s: %s arrived after %s", u.DeviceID, u.Timestamp, prev)
		}
		lastTS[u.DeviceID] = u.Timestamp
	}

	// EnOS was really down and its forwarder really stuck all along.
	if err := enos.WaitFor(ctx, func(s *sinksim.EnOS) bool { return s.Stats().Faults > 0 }); err != nil {
		t.Fatalf("the enos-forwarder never reached the failing EnOS: %v", err)
	}
	c, end := e.committed(enosGroup, e.events, 3)
	if c >= end {
		t.Fatalf("the enos group committed %d of %d: EnOS was not holding it back", c, end)
	}
	t.Logf("%d raw events from snoti-sim through ingest to Energisme in %s, while EnOS answered 503 %d times and the enos group sat at %d of %d",
		len(expect), took.Round(time.Millisecond), enos.Stats().Faults, c, end)
}

// program builds services/<name> once per test binary.
func program(t *testing.T, name string) string {
	t.Helper()
	return testkit.Build(t, filepath.Join("..", name))
}

// startProgram runs a service program until the test ends (SIGTERM, then
// SIGKILL after 15 s); its stderr goes to the test log.
func startProgram(t *testing.T, name string, env []string) {
	t.Helper()
	cmd := exec.Command(program(t, name))
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logWriter{t: t, name: name}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

type logWriter struct {
	t    *testing.T
	name string
}

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, b)
	return len(b), nil
}
