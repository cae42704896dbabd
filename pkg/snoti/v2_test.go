package snoti_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// TestSharedQueueIsRoundRobinAndOtherSubkeysGetACopy: two clients on
// product_key+subkey "main" share its messages; a client on subkey
// "audit" gets every message again.
func TestSharedQueueIsRoundRobinAndOtherSubkeysGetACopy(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	a, b, audit := newCollector(), newCollector(), newCollector()
	ca := runClient(t, clientConfig(t, srv, snoti.ProtocolV2), a, zerolog.Nop())
	cb := runClient(t, clientConfig(t, srv, snoti.ProtocolV2), b, zerolog.Nop())
	auditCfg := clientConfig(t, srv, snoti.ProtocolV2)
	auditCfg.Products[0].Subkey = "audit"
	cc := runClient(t, auditCfg, audit, zerolog.Nop())
	waitUntil(t, "three logins", func() bool { return ca.Ready() && cb.Ready() && cc.Ready() })

	const n = 40
	publish(t, srv, n)
	seen := map[string]int{}
	for range n {
		p := nextPush(t, audit)
		p.Ack()
	}
	countA, countB := 0, 0
	for countA+countB < n {
		select {
		case p := <-a.pushes:
			countA++
			seen[string(p.Raw[len(p.Raw)-40:])]++
			p.Ack()
		case p := <-b.pushes:
			countB++
			seen[string(p.Raw[len(p.Raw)-40:])]++
			p.Ack()
		case <-waitCtx(t).Done():
			t.Fatalf("timed out: %d + %d of %d pushes on the shared queue", countA, countB, n)
		}
	}
	if countA != n/2 || countB != n/2 {
		t.Fatalf("shared queue split %d/%d: want round-robin %d/%d", countA, countB, n/2, n/2)
	}
	sum := waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Acks == 2*n })
	if sum.Messages != 2*n || sum.Redeliveries != 0 {
		t.Fatalf("ledger %+v: want one copy per subkey, nothing resent", sum)
	}
}

// TestPrefetchIsEnforced: a client with prefetch 3 that ACKs nothing gets
// exactly 3 pushes; each ACK lets exactly one more through.
func TestPrefetchIsEnforced(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Prefetch = 3
	runClient(t, cfg, col, zerolog.Nop())
	publish(t, srv, 10)
	held := []*snoti.Push{nextPush(t, col), nextPush(t, col), nextPush(t, col)}
	sum := srv.Summary()
	if sum.Pushes != 3 || sum.Backlog != 7 {
		t.Fatalf("ledger %+v: want 3 pushed and 7 waiting", sum)
	}
	if conns := srv.Connections(); len(conns) != 1 || conns[0].Inflight != 3 || conns[0].Prefetch != 3 {
		t.Fatalf("connections %+v: want one with 3 of 3 in flight", conns)
	}
	held[0].Ack()
	held = append(held, nextPush(t, col))
	sum = waitSim(t, srv, "the ACK settled", func(s snotisim.Summary) bool { return s.Acks == 1 })
	if sum.Pushes != 4 {
		t.Fatalf("ledger %+v: want exactly one more push after one ACK", sum)
	}
	for _, p := range held[1:] {
		p.Ack()
	}
	for range 6 {
		nextPush(t, col).Ack()
	}
	waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Acks == 10 && s.Pending == 0 })
}

func TestSubscribeAndUnsubscribeAfterLogin(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) { c.Products[0].Subkeys = nil })
	col := newCollector()
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Products[0].Events = []string{"device.online"}
	c := runClient(t, cfg, col, zerolog.Nop())
	waitUntil(t, "login", c.Ready)
	kv := snotisim.Event{ProductKey: testPK, EventType: snoti.EventDeviceStatusKV, DID: "d1", Fields: map[string]any{"data": map[string]any{"a": 1}}}

	if _, err := srv.Publish(kv); err != nil {
		t.Fatal(err)
	}
	if sum := srv.Summary(); sum.Unrouted != 1 {
		t.Fatalf("ledger %+v: kv must not be routed before subscribing", sum)
	}
	sub := snoti.Product{ProductKey: testPK, AuthID: testAuthID, AuthSecret: testSecret, Subkey: "main", Events: []string{"device.status.kv"}}
	if err := c.Subscribe(waitCtx(t), []snoti.Product{sub}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if _, err := srv.Publish(kv); err != nil {
		t.Fatal(err)
	}
	p := nextPush(t, col)
	if p.EventType != snoti.EventDeviceStatusKV {
		t.Fatalf("got %s, want the subscribed kv event", p.EventType)
	}
	p.Ack()

	if err := c.Unsubscribe(waitCtx(t), []snoti.Product{{ProductKey: testPK, Subkey: "main", Events: []string{"device.status.kv"}}}); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if _, err := srv.Publish(kv); err != nil {
		t.Fatal(err)
	}
	if sum := srv.Summary(); sum.Unrouted != 2 || sum.Acks != 1 {
		t.Fatalf("ledger %+v: kv must not be routed after unsubscribing", sum)
	}

	bad := sub
	bad.AuthSecret = "wrong"
	var re *snoti.ReplyError
	if err := c.Subscribe(waitCtx(t), []snoti.Product{bad}); !errors.As(err, &re) {
		t.Fatalf("Subscribe with a wrong secret: %v, want a ReplyError", err)
	}
	if !c.Ready() {
		t.Fatal("a refused subscription must not cost the connection")
	}
}

func TestRemoteControlReturnsThePerDeviceResult(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	c := runClient(t, clientConfig(t, srv, snoti.ProtocolV2), &ackAll{}, zerolog.Nop())
	for _, e := range []snotisim.Event{
		{ProductKey: testPK, EventType: snoti.EventDeviceOnline, DID: "on1"},
		{ProductKey: testPK, EventType: snoti.EventDeviceOnline, DID: "off1"},
		{ProductKey: testPK, EventType: snoti.EventDeviceOffline, DID: "off1"},
	} {
		if _, err := srv.Publish(e); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "login", c.Ready)
	res, err := c.RemoteControl(waitCtx(t), snoti.RemoteControlRequest{
		BinaryCoding: "hex",
		Commands: []snoti.RemoteCommand{
			{DID: "on1", ProductKey: testPK, Attrs: map[string]any{"charge_enable": true}},
			{DID: "off1", ProductKey: testPK, Raw: []byte{0x01, 0x02}},
			{DID: "ghost", ProductKey: testPK, Attrs: map[string]any{"mode": "auto"}},
		},
	})
	if err != nil {
		t.Fatalf("RemoteControl: %v", err)
	}
	if !slices.Equal(res.Succeed, []string{"on1"}) {
		t.Fatalf("succeed %v, want [on1]", res.Succeed)
	}
	want := []snoti.RemoteFailure{{DID: "off1", Reason: "device offline"}, {DID: "ghost", Reason: "device not found"}}
	if !slices.Equal(res.Failed, want) {
		t.Fatalf("failed %+v, want %+v", res.Failed, want)
	}
}

func TestCallsWithoutAConnectionFailFast(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	c, err := snoti.New(clientConfig(t, srv, snoti.ProtocolV2), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoteControl(context.Background(), snoti.RemoteControlRequest{Commands: []snoti.RemoteCommand{{DID: "x", Attrs: map[string]any{}}}}); !errors.Is(err, snoti.ErrNotConnected) {
		t.Fatalf("RemoteControl before Run: %v, want ErrNotConnected", err)
	}
	if err := c.Subscribe(context.Background(), clientConfig(t, srv, snoti.ProtocolV2).Products); !errors.Is(err, snoti.ErrNotConnected) {
		t.Fatalf("Subscribe before Run: %v, want ErrNotConnected", err)
	}
}
