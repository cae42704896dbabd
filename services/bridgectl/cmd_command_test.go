package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	cmdsend "github.com/snotibridge/snotibridge/pkg/command"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

func TestBuildCommand(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		attrs, raw, kind string
		expires          time.Duration
		wantKind         string
		wantErr          string
		check            func(t *testing.T, c *records.DeviceCommand)
	}{
		{name: "attrs", attrs: `{"limit":16,"on":true,"ratio":0.5,"mode":"eco"}`, wantKind: records.CommandWriteAttrs, expires: 30 * time.Second,
			check: func(t *testing.T, c *records.DeviceCommand) {
				want := []records.DataPoint{{Name: "limit", Value: int64(16)}, {Name: "mode", Value: "eco"}, {Name: "on", Value: true}, {Name: "ratio", Value: 0.5}}
				g, _ := json.Marshal(c.Attrs)
				w, _ := json.Marshal(want)
				if string(g) != string(w) || c.ExpiresAt == nil || !c.ExpiresAt.Equal(now.Add(30*time.Second)) || len(c.CommandID) != 32 {
					t.Errorf("command %+v", c)
				}
			}},
		{name: "raw", raw: "0a0B", wantKind: records.CommandWrite, check: func(t *testing.T, c *records.DeviceCommand) {
			if string(c.Raw) != "\x0a\x0b" || c.ExpiresAt != nil {
				t.Errorf("command %+v", c)
			}
		}},
		{name: "raw v1", raw: "01", kind: "write_v1", wantKind: records.CommandWriteV1},
		{name: "both", attrs: `{"a":1}`, raw: "01", wantErr: "exactly one of --attrs and --raw"},
		{name: "bad hex", raw: "zz", wantErr: "want hex bytes"},
		{name: "attrs kind with raw", raw: "01", kind: "write_attrs", wantErr: "--kind write_attrs does not go with --raw"},
		{name: "unknown kind", attrs: `{"a":1}`, kind: "reboot", wantErr: `--kind "reboot"`},
		{name: "not an object", attrs: `[1]`, wantErr: "want a non-empty JSON object"},
		{name: "nested value", attrs: `{"a":{"b":1}}`, wantErr: "--attrs a: value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := buildCommand("pk", "d1", "", tt.attrs, tt.raw, tt.kind, "", "me", tt.expires, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tt.wantKind || c.ProductKey != "pk" || c.DID != "d1" || c.Requester != "me" {
				t.Errorf("command %+v", c)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

type offlineFleet struct {
	mu      sync.Mutex
	applied []string
}

func (f *offlineFleet) Control(_, did string, attrs map[string]json.RawMessage, raw []byte) error {
	if strings.HasPrefix(did, "offline") {
		return &snotisim.EnterpriseRefusal{Status: 400, Code: 5305, Message: "device offline!"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(attrs)
	f.applied = append(f.applied, did+" "+string(b))
	return nil
}

// TestCommandSendWait: bridgectl command send --wait against a running
// command sender (pkg/command behind the Enterprise API emulator) prints
// the result and exits by it; command tail lists the results.
func TestCommandSendWait(t *testing.T) {
	ta := newTestApp(t)
	ta.cfg.Topics.Commands = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.CommandResults = kafkatest.Topic(t, ta.brokers, 3)
	dlq := kafkatest.Topic(t, ta.brokers, 1)

	fleet := &offlineFleet{}
	api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{EnterpriseID: "e", EnterpriseSecret: "s", Devices: fleet,
		Products: map[string]snotisim.EnterpriseProduct{"pk": {Secret: "ps"}}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	client, err := gizwitsapi.New(gizwitsapi.Config{URL: srv.URL, EnterpriseID: "e", EnterpriseSecret: "s",
		ProductSecrets: map[string]string{"pk": "ps"}, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	codec, _ := records.NewCodec()
	w, err := ta.cfg.Kafka.NewWriter(ta.cfg.Topics.CommandResults)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sender, err := cmdsend.NewSender(cmdsend.Config{Default: cmdsend.EnterpriseAPI{Client: client}}, w, ta.cfg.Topics.CommandResults, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	runner, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "commands", DLQTopic: dlq},
		GroupID:         "commands-" + ta.cfg.Topics.Commands, Topics: []string{ta.cfg.Topics.Commands},
	}, ta.cfg.Kafka, sender, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if code := ta.run(ctx, t, "command", "send", "--product", "pk", "--did", "dev-1", "--attrs", `{"charge_enable":true}`, "--id", "c-ok", "--wait", "--timeout", "3m"); code != exitOK {
		t.Fatalf("send --wait: exit %d", code)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(ta.out.String()), &res); err != nil || res["status"] != "succeeded" || res["command_id"] != "c-ok" || res["path"] != "enterprise_api" {
		t.Errorf("result line %q (%v)", ta.out.String(), err)
	}
	fleet.mu.Lock()
	applied := append([]string(nil), fleet.applied...)
	fleet.mu.Unlock()
	if len(applied) != 1 || applied[0] != `dev-1 {"charge_enable":true}` {
		t.Errorf("the fleet received %q", applied)
	}
	if code := ta.run(ctx, t, "command", "send", "--product", "pk", "--did", "offline-1", "--raw", "0102", "--id", "c-off", "--wait", "--timeout", "3m"); code != exitFailure ||
		!strings.Contains(ta.out.String(), `"status":"failed"`) || !strings.Contains(ta.errw.String(), "device offline!") {
		t.Errorf("offline device: exit %d", code)
	}
	if code := ta.run(ctx, t, "command", "tail", "--from", "earliest", "--to", "latest"); code != exitOK || strings.Count(ta.out.String(), "\n") != 2 ||
		!strings.Contains(ta.out.String(), "c-ok") || !strings.Contains(ta.out.String(), "c-off") {
		t.Errorf("command tail: exit %d", code)
	}
	if code := ta.run(ctx, t, "command", "tail", "--topic", "x"); code != exitUsage {
		t.Errorf("command tail --topic: exit %d, want usage", code)
	}
}
