package energismefwd_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// fakePusher records uplinks and answers with the error its fail function
// returns for each one.
type fakePusher struct {
	mu   sync.Mutex
	got  []energisme.Uplink
	fail func(u energisme.Uplink) error
}

func (p *fakePusher) Push(_ context.Context, u energisme.Uplink) error {
	if p.fail != nil {
		if err := p.fail(u); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, u)
	return nil
}

func (p *fakePusher) uplinks() []energisme.Uplink {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]energisme.Uplink(nil), p.got...)
}

var created = time.Date(2026, 11, 22, 3, 4, 5, 678_000_000, time.UTC)

func event(t *testing.T, codec *records.Codec, id, typ, productKey, did string, raw []byte) kafka.Message {
	t.Helper()
	m, err := codec.Message("events", []byte(did), &records.SnotiEvent{
		EventID: id, EventType: typ, ProductKey: productKey, DID: did, MAC: "MAC-" + did,
		CreatedAt: created, ReceivedAt: created.Add(time.Second), Protocol: "v2", DeliveryID: "1", Raw: raw, RawJSON: "{}",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newPushHandler(t *testing.T, p energismefwd.Pusher, policy energismefwd.UnmappedPolicy) (*energismefwd.PushHandler, *records.Codec) {
	t.Helper()
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	m, err := energismefwd.ParseMapping("m.json", []byte(`{"products":{"`+pk+`":{"devicetype":"gizwits-ev-charger"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := energismefwd.NewPushHandler(energismefwd.PushConfig{Mapping: m, Unmapped: policy, Concurrency: 4}, p, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return h, codec
}

func TestPushHandlerOutcomes(t *testing.T) {
	p := &fakePusher{fail: func(u energisme.Uplink) error {
		switch u.DeviceID {
		case "bad":
			return sinkerr.NewPermanent(fmt.Errorf("pushing: %w", &energisme.HTTPError{StatusCode: 422, Body: "unknown devicetype"}))
		case "down":
			return sinkerr.NewRetryable(errors.New("503"), 2*time.Second)
		}
		return nil
	}}
	h, codec := newPushHandler(t, p, energismefwd.UnmappedDLQ)
	raw := []byte{0x00, 0x00, 0x00, 0x03, 0x0A, 0xFF}
	msgs := []kafka.Message{
		event(t, codec, "e1", "device_status_raw", pk, "dev1", raw),
		event(t, codec, "e2", "device_online", pk, "dev1", nil),
		event(t, codec, "e3", "device_status_raw", "unmapped-product", "dev2", raw),
		event(t, codec, "e4", "device_status_raw", pk, "bad", raw),
		event(t, codec, "e5", "device_status_raw", pk, "down", raw),
		event(t, codec, "e6", "device_status_raw", pk, "down", raw), // after e5: not attempted
		event(t, codec, "e7", "device_status_raw", pk, "dev3", nil),
		{Key: []byte("x"), Value: []byte("not avro")},
	}
	errs := h.Handle(context.Background(), msgs)
	want := []struct {
		class  sinkerr.Class
		reason string
	}{
		{class: sinkerr.ClassSuccess},
		{class: sinkerr.ClassSuccess},
		{class: sinkerr.ClassPermanent, reason: "no_mapping"},
		{class: sinkerr.ClassPermanent, reason: "http_422"},
		{class: sinkerr.ClassRetryable},
		{class: sinkerr.ClassRetryable},
		{class: sinkerr.ClassPermanent, reason: "no_payload"},
		{class: sinkerr.ClassPermanent, reason: "undecodable"},
	}
	for i, w := range want {
		if got := sinkerr.Classify(errs[i]); got != w.class {
			t.Errorf("message %d: class %v (%v), want %v", i, got, errs[i], w.class)
			continue
		}
		if w.reason != "" && consume.ReasonOf(errs[i]) != w.reason {
			t.Errorf("message %d: reason %q, want %q", i, consume.ReasonOf(errs[i]), w.reason)
		}
	}
	if ra, _ := sinkerr.Retryable(errs[4]); ra != 2*time.Second {
		t.Errorf("Retry-After lost: %v", errs[4])
	}
	var herr *energisme.HTTPError
	if !errors.As(errs[3], &herr) || herr.Body != "unknown devicetype" {
		t.Errorf("rejection %v does not carry the status and body", errs[3])
	}
	got := p.uplinks()
	if len(got) != 1 {
		t.Fatalf("uplinks %+v, want exactly the one for dev1", got)
	}
	u := got[0]
	if u.DeviceID != "dev1" || u.DeviceType != "gizwits-ev-charger" || !u.Time.Equal(created) || string(u.Payload) != string(raw) {
		t.Errorf("uplink %+v", u)
	}
}

func TestPushHandlerSkipsUnmapped(t *testing.T) {
	p := &fakePusher{}
	h, codec := newPushHandler(t, p, energismefwd.UnmappedSkip)
	errs := h.Handle(context.Background(), []kafka.Message{event(t, codec, "e1", "device_status_raw", "unmapped", "d", []byte{1})})
	if errs[0] != nil || len(p.uplinks()) != 0 {
		t.Fatalf("unmapped under skip: err %v, %d uplinks; want done without sending", errs[0], len(p.uplinks()))
	}
}

func TestPushHandlerOrderPerDevice(t *testing.T) {
	p := &fakePusher{}
	h, codec := newPushHandler(t, p, energismefwd.UnmappedDLQ)
	var msgs []kafka.Message
	for i := range 200 {
		msgs = append(msgs, event(t, codec, fmt.Sprint(i), "device_status_raw", pk, fmt.Sprintf("dev%d", i%7), []byte{byte(i)}))
	}
	for i, err := range h.Handle(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	last := map[string]int{}
	for _, u := range p.uplinks() {
		if prev, ok := last[u.DeviceID]; ok && int(u.Payload[0]) <= prev {
			t.Fatalf("device %s: payload %d sent after %d", u.DeviceID, u.Payload[0], prev)
		}
		last[u.DeviceID] = int(u.Payload[0])
	}
	if n := len(p.uplinks()); n != 200 {
		t.Fatalf("%d uplinks, want 200", n)
	}
}

func TestParseUnmappedPolicy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    energismefwd.UnmappedPolicy
		wantErr bool
	}{
		{name: "default", in: "", want: energismefwd.UnmappedDLQ},
		{name: "dlq", in: "dlq", want: energismefwd.UnmappedDLQ},
		{name: "skip", in: "skip", want: energismefwd.UnmappedSkip},
		{name: "drop", in: "drop", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := energismefwd.ParseUnmappedPolicy(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseUnmappedPolicy(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestPushHandlerReady(t *testing.T) {
	var down atomic.Bool
	p := &fakePusher{fail: func(energisme.Uplink) error {
		if down.Load() {
			return sinkerr.NewRetryable(errors.New("503"), 0)
		}
		return nil
	}}
	h, codec := newPushHandler(t, p, energismefwd.UnmappedDLQ)
	if err := h.Ready(context.Background()); err != nil {
		t.Fatalf("idle handler not ready: %v", err)
	}
	down.Store(true)
	msg := []kafka.Message{event(t, codec, "e1", "device_status_raw", pk, "d1", []byte{1})}
	h.Handle(context.Background(), msg)
	// Failing for less than FailingFor is still ready: a blip is not an outage.
	if err := h.Ready(context.Background()); err != nil {
		t.Fatalf("ready after one failure: %v", err)
	}
	down.Store(false)
	if errs := h.Handle(context.Background(), msg); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if err := h.Ready(context.Background()); err != nil {
		t.Fatalf("not ready after a success: %v", err)
	}
}
