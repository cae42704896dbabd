package command_test

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
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/command"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

const pk = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// fleet is a virtual fleet behind the Enterprise API emulator: every
// control applied is kept per device; devices in offline refuse.
type fleet struct {
	mu      sync.Mutex
	offline map[string]bool
	applied map[string][]string // did → attrs or raw of each control, in order
}

func (f *fleet) Control(productKey, did string, attrs map[string]json.RawMessage, raw []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offline[did] {
		return &snotisim.EnterpriseRefusal{Status: 400, Code: 5305, Message: "device offline!"}
	}
	var what string
	if attrs != nil {
		b, _ := json.Marshal(attrs)
		what = string(b)
	} else {
		what = string(raw)
	}
	f.applied[did] = append(f.applied[did], what)
	return nil
}

func (f *fleet) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.applied {
		n += len(v)
	}
	return n
}

type harness struct {
	kc                     kafkaconf.Config
	commands, results, dlq string
	group                  string
	client                 *gizwitsapi.Client
	fleet                  *fleet
	codec                  *records.Codec
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	brokers := kafkatest.Brokers(t)
	h := &harness{
		kc: kafkatest.Config(t), commands: kafkatest.Topic(t, brokers, 3), results: kafkatest.Topic(t, brokers, 3),
		dlq: kafkatest.Topic(t, brokers, 1), group: "commands-" + t.Name(),
		fleet: &fleet{offline: map[string]bool{"offline-1": true}, applied: map[string][]string{}},
	}
	api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{
		EnterpriseID: "ent", EnterpriseSecret: "es", Devices: h.fleet,
		Products: map[string]snotisim.EnterpriseProduct{pk: {Secret: "ps"}},
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(newMux(api))
	t.Cleanup(srv.Close)
	h.client, err = gizwitsapi.New(gizwitsapi.Config{URL: srv.URL, EnterpriseID: "ent", EnterpriseSecret: "es",
		ProductSecrets: map[string]string{pk: "ps"}, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	h.codec, _ = records.NewCodec()
	return h
}

// start runs a sender as the ingest does: results read back, then the
// consumer group.
func (h *harness) start(t *testing.T) (stop func()) {
	t.Helper()
	w, err := h.kc.NewWriter(h.results)
	if err != nil {
		t.Fatal(err)
	}
	s, err := command.NewSender(command.Config{Default: command.EnterpriseAPI{Client: h.client}}, w, h.results, h.codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Load(ctx, h.kc); err != nil {
		t.Fatal(err)
	}
	r, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "commands", DLQTopic: h.dlq, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		GroupID:         h.group, Topics: []string{h.commands}, BatchSize: 50,
	}, h.kc, s, h.codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	return func() {
		rcancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
		_ = w.Close()
	}
}

func (h *harness) produce(t *testing.T, cmds ...*records.DeviceCommand) {
	t.Helper()
	w, err := h.kc.NewWriter(h.commands)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var msgs []kafka.Message
	for _, c := range cmds {
		m, err := h.codec.Message("", []byte(c.DID), c)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) readResults(t *testing.T, n int) map[string]records.CommandResult {
	t.Helper()
	msgs := kafkatest.ReadN(t, h.kc.Addrs(), h.results, n, 3*time.Minute)
	out := map[string]records.CommandResult{}
	for _, m := range msgs {
		var r records.CommandResult
		if err := h.codec.Unmarshal(m.Value, &r); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != r.DID {
			t.Errorf("result of %s keyed %q, want the did", r.CommandID, m.Key)
		}
		if _, dup := out[r.CommandID]; dup {
			t.Errorf("two results for command %s", r.CommandID)
		}
		out[r.CommandID] = r
	}
	return out
}

func TestSenderThroughEnterpriseAPI(t *testing.T) {
	h := newHarness(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	past, later := now.Add(-time.Minute), now.Add(time.Hour)
	cmds := []*records.DeviceCommand{
		{CommandID: "ok-1", ProductKey: pk, DID: "dev-1", Kind: records.CommandWriteAttrs, RequestedAt: now, ExpiresAt: &later,
			Attrs: []records.DataPoint{{Name: "charge_enable", Value: true}, {Name: "current_limit", Value: int64(10)}}, Requester: "test"},
		{CommandID: "ok-2", ProductKey: pk, DID: "dev-1", Kind: records.CommandWrite, Raw: []byte("abc"), RequestedAt: now},
		{CommandID: "expired-1", ProductKey: pk, DID: "dev-2", Kind: records.CommandWriteAttrs, RequestedAt: past, ExpiresAt: &past,
			Attrs: []records.DataPoint{{Name: "charge_enable", Value: false}}},
		{CommandID: "bad-1", ProductKey: pk, DID: "dev-3", Kind: "reboot", RequestedAt: now},
		{CommandID: "offline-cmd", ProductKey: pk, DID: "offline-1", Kind: records.CommandWriteAttrs, RequestedAt: now,
			Attrs: []records.DataPoint{{Name: "charge_enable", Value: true}}},
	}
	stop := h.start(t)
	h.produce(t, cmds...)
	got := h.readResults(t, len(cmds))
	want := map[string]struct{ status, path, reason string }{
		"ok-1":        {records.CommandSucceeded, command.PathEnterpriseAPI, ""},
		"ok-2":        {records.CommandSucceeded, command.PathEnterpriseAPI, ""},
		"expired-1":   {records.CommandExpired, "", "expired at"},
		"bad-1":       {records.CommandRejected, "", `kind "reboot" unknown`},
		"offline-cmd": {records.CommandFailed, command.PathEnterpriseAPI, "error_code 5305: device offline!"},
	}
	for id, w := range want {
		r, ok := got[id]
		if !ok {
			t.Errorf("no result for %s", id)
			continue
		}
		if r.Status != w.status || r.Path != w.path || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("%s: status %q path %q reason %q; want %q %q %q", id, r.Status, r.Path, r.Reason, w.status, w.path, w.reason)
		}
		if (r.SentAt != nil) != (w.path != "") {
			t.Errorf("%s: sent_at %v for path %q", id, r.SentAt, w.path)
		}
	}
	if got["ok-1"].Requester != "test" || !got["ok-1"].RequestedAt.Equal(now) {
		t.Errorf("ok-1 result lost requester or requested_at: %+v", got["ok-1"])
	}
	h.fleet.mu.Lock()
	applied := append([]string(nil), h.fleet.applied["dev-1"]...)
	h.fleet.mu.Unlock()
	if len(applied) != 2 || applied[0] != `{"charge_enable":true,"current_limit":10}` || applied[1] != "abc" {
		t.Errorf("dev-1 received %q, want its two commands in order", applied)
	}
	if n := h.fleet.count(); n != 2 {
		t.Errorf("%d controls reached the fleet, want 2 (expired, rejected and offline ones do not)", n)
	}
	dl := kafkatest.ReadN(t, h.kc.Addrs(), h.dlq, 1, 3*time.Minute)
	var d records.DeadLetter
	if err := h.codec.Unmarshal(dl[0].Value, &d); err != nil || d.Reason != "invalid_command" {
		t.Errorf("dead letter %+v, %v; want the malformed command with reason invalid_command", d, err)
	}

	// A restart, then the same commands again (a replay, a producer retry):
	// nothing is sent twice, no second result; a new command still flows.
	stop()
	stop = h.start(t)
	defer stop()
	h.produce(t, cmds[0], cmds[1], &records.DeviceCommand{CommandID: "ok-3", ProductKey: pk, DID: "dev-1", Kind: records.CommandWriteV1, Raw: []byte{1}, RequestedAt: now})
	res := h.readResults(t, len(cmds)+1)
	if r := res["ok-3"]; r.Status != records.CommandSucceeded {
		t.Fatalf("ok-3 after the restart: %+v", r)
	}
	testkit.Eventually(t, 10*time.Second, "three controls at the fleet", func() bool { return h.fleet.count() == 3 })
	if n := h.fleet.count(); n != 3 {
		t.Errorf("%d controls after the restart, want 3: an answered command was sent again", n)
	}
}

func newMux(api *snotisim.EnterpriseAPI) *http.ServeMux {
	mux := http.NewServeMux()
	api.Register(mux)
	return mux
}
