package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/command"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

const cmdPK = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// TestCommandsReachTheDevices: commands produced to the commands topic
// reach the simulator's virtual devices through each path — SNoti's
// remote_control_v2_req on the ingest's own connections, and the Gizwits
// Enterprise API — and the device's next status push, ingested like any
// other, carries the written value; an offline device gives a failed
// result with the server's reason, an expired command is not sent.
func TestCommandsReachTheDevices(t *testing.T) {
	for _, path := range []string{command.PathSNoti, command.PathEnterpriseAPI} {
		t.Run(path, func(t *testing.T) { testCommandPath(t, path) })
	}
}

func testCommandPath(t *testing.T, path string) {
	brokers := kafkatest.Brokers(t)
	sim, ca := simtest.Start(t, snotisim.Config{
		Addr:     "127.0.0.1:0",
		Products: []snotisim.Product{{ProductKey: cmdPK, AuthID: "aid", AuthSecret: "asecret", Subkeys: []string{"main"}}},
		Fleet:    snotisim.Fleet{Devices: 2, MaxEvents: 2, Seed: 1},
	})
	events, invalid := kafkatest.Topic(t, brokers, 3), kafkatest.Topic(t, brokers, 1)
	cmds, results, dlq := kafkatest.Topic(t, brokers, 3), kafkatest.Topic(t, brokers, 3), kafkatest.Topic(t, brokers, 1)
	kc := kafkaconf.Config{Brokers: brokers}
	cfg := Config{
		Base: service.Base{Kafka: kc, ShutdownTimeout: 20 * time.Second},
		Config: snoti.Config{
			Addr: sim.Addr(), Protocol: snoti.ProtocolV2, Prefetch: 50, CAFile: ca,
			Products:   []snoti.Product{{ProductKey: cmdPK, AuthID: "aid", AuthSecret: "asecret", Subkey: "main", Events: snoti.Subscriptions()}},
			BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
		},
		Connections: 2, TopicEvents: events, TopicInvalid: invalid, BatchSize: 500, RetryBackoffMax: 500 * time.Millisecond,
		Commands: Commands{Enabled: true, GroupID: "commands-" + cmds, Topic: cmds, ResultsTopic: results, DLQTopic: dlq,
			Path: path, Concurrency: 4, DedupeWindow: time.Hour, Timeout: 10 * time.Second},
	}
	if path == command.PathEnterpriseAPI {
		api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{EnterpriseID: "ent", EnterpriseSecret: "es",
			Products: sim.EnterpriseProducts("ps"), Devices: sim}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		api.Register(mux)
		srv := httptest.NewTLSServer(mux)
		t.Cleanup(srv.Close)
		caAPI := filepath.Join(t.TempDir(), "api-ca.pem")
		writeCertPEM(t, caAPI, srv)
		cfg.Commands.APIURL, cfg.Commands.APICAFile = srv.URL, caAPI
		cfg.Commands.EnterpriseID, cfg.Commands.EnterpriseSecret = "ent", "es"
		cfg.Commands.ProductSecrets = map[string]string{cmdPK: "ps"}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level, cfg.Log.Format = "warn", "json"
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	stop := testkit.RunInProcess(t, "ingest", func(ctx context.Context) error { return run(ctx, cfg, log) })

	testkit.Eventually(t, 2*time.Minute, "both devices online and ACKed", func() bool { return sim.Summary().Acks >= 2 })
	if _, err := sim.Publish(snotisim.Event{ProductKey: cmdPK, EventType: "device_offline", DID: "simdev0000000000000001"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, "the offline push ACKed", func() bool { return sim.Summary().Acks >= 3 })

	codec, _ := records.NewCodec()
	now := time.Now().UTC().Truncate(time.Millisecond)
	past := now.Add(-time.Second)
	produceCommands(t, kc, cmds, codec,
		&records.DeviceCommand{CommandID: "set-limit", ProductKey: cmdPK, DID: "simdev0000000000000000", Kind: records.CommandWriteAttrs,
			Attrs: []records.DataPoint{{Name: "current_limit", Value: int64(12)}, {Name: "mode", Value: "scheduled"}}, RequestedAt: now},
		&records.DeviceCommand{CommandID: "to-offline", ProductKey: cmdPK, DID: "simdev0000000000000001", Kind: records.CommandWriteAttrs,
			Attrs: []records.DataPoint{{Name: "current_limit", Value: int64(12)}}, RequestedAt: now},
		&records.DeviceCommand{CommandID: "too-late", ProductKey: cmdPK, DID: "simdev0000000000000000", Kind: records.CommandWriteAttrs,
			Attrs: []records.DataPoint{{Name: "current_limit", Value: int64(30)}}, RequestedAt: past, ExpiresAt: &past},
	)
	got := map[string]records.CommandResult{}
	for _, m := range kafkatest.ReadN(t, brokers, results, 3, 3*time.Minute) {
		var r records.CommandResult
		if err := codec.Unmarshal(m.Value, &r); err != nil {
			t.Fatal(err)
		}
		got[r.CommandID] = r
	}
	if r := got["set-limit"]; r.Status != records.CommandSucceeded || r.Path != path {
		t.Errorf("set-limit: %+v, want succeeded through %s", r, path)
	}
	if r := got["to-offline"]; r.Status != records.CommandFailed || r.Reason == "" {
		t.Errorf("to-offline: %+v, want failed with the server's reason", r)
	}
	if r := got["too-late"]; r.Status != records.CommandExpired || r.SentAt != nil {
		t.Errorf("too-late: %+v, want expired and not sent", r)
	}
	// The device reports its new status at once; the ingest writes it.
	found := false
	r := kafkatest.NewReader(t, brokers, events)
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer rcancel()
	for !found {
		m, err := r.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("no status push with the written value: %v", err)
		}
		found = hasWrittenStatus(t, codec, m)
	}
	stop()
}

func hasWrittenStatus(t *testing.T, codec *records.Codec, m kafka.Message) bool {
	var e records.SnotiEvent
	if err := codec.Unmarshal(m.Value, &e); err != nil {
		t.Fatal(err)
	}
	if e.EventType != "device_status_kv" || e.DID != "simdev0000000000000000" {
		return false
	}
	var line struct {
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal([]byte(e.RawJSON), &line)
	return line.Data["current_limit"] == 12.0 && line.Data["mode"] == "scheduled"
}

func produceCommands(t *testing.T, kc kafkaconf.Config, topic string, codec *records.Codec, cmds ...*records.DeviceCommand) {
	t.Helper()
	w, err := kc.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var msgs []kafka.Message
	for _, c := range cmds {
		m, err := codec.Message("", []byte(c.DID), c)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

func writeCertPEM(t *testing.T, path string, srv *httptest.Server) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
