package snoti_test

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

func TestDeliversAndAcksEveryEvent(t *testing.T) {
	for _, proto := range []string{snoti.ProtocolV1, snoti.ProtocolV2} {
		t.Run(proto, func(t *testing.T) {
			srv := startSim(t, proto, nil)
			c := runClient(t, clientConfig(t, srv, proto), &ackAll{}, zerolog.Nop())
			const n = 500
			publish(t, srv, n)
			sum := waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Acks >= n && s.Pending == 0 })
			if sum.UnknownAcks != 0 || sum.MsgIDMismatches != 0 || sum.Redeliveries != 0 || sum.Pending != 0 {
				t.Fatalf("ledger %+v: want no unknown ACK, no msg_id mismatch, no redelivery, nothing pending", sum)
			}
			for _, e := range srv.Entries() {
				if e.Acks != 1 || e.Pushes != 1 {
					t.Fatalf("entry %+v: want pushed once and ACKed once", e)
				}
			}
			if !c.Ready() {
				t.Fatal("client not ready while connected")
			}
		})
	}
}

func TestDeliveryIDsEchoedInTheirJSONType(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		isValid func(raw string) bool
	}{
		{"number", snotisim.IDNumber, func(r string) bool { return r[0] >= '1' && r[0] <= '9' }},
		{"number beyond 2^53", snotisim.IDBigNumber, func(r string) bool { return len(r) >= 19 && r[0] != '"' }},
		{"string", snotisim.IDString, func(r string) bool { return r[0] == '"' }},
		{"mixed", snotisim.IDMixed, func(string) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) { c.DeliveryIDs = tt.kind })
			col := newCollector()
			runClient(t, clientConfig(t, srv, snoti.ProtocolV2), col, zerolog.Nop())
			const n = 30
			publish(t, srv, n)
			withMsgID := 0
			for range n {
				p := nextPush(t, col)
				if !tt.isValid(string(p.DeliveryID)) {
					t.Errorf("delivery_id %s: not of kind %s", p.DeliveryID, tt.kind)
				}
				if len(p.MsgID) > 0 {
					withMsgID++
					if p.MsgID[0] != '"' {
						t.Errorf("msg_id %s: want the simulator's string msg_id", p.MsgID)
					}
				}
				p.Ack()
			}
			if withMsgID != n/2 {
				t.Errorf("%d of %d pushes with a msg_id: want half (the simulator's default share)", withMsgID, n)
			}
			sum := waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Acks+s.UnknownAcks >= n })
			if sum.Acks != n || sum.UnknownAcks != 0 || sum.MsgIDMismatches != 0 {
				t.Fatalf("ledger %+v: want %d ACKs matching delivery_id and msg_id byte for byte", sum, n)
			}
		})
	}
}

func TestUnknownEventTypeIsDeliveredWholeAndAcked(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	runClient(t, clientConfig(t, srv, snoti.ProtocolV2), col, zerolog.Nop())
	if _, err := srv.Publish(snotisim.Event{ProductKey: testPK, EventType: "brand_new_event", DID: "d1",
		FieldsJSON: []byte(`{"payload":{"x":[1,2],"big":123456789012345678901234567890.5}}`)}); err != nil {
		t.Fatal(err)
	}
	p := nextPush(t, col)
	if p.EventType != "brand_new_event" || p.Data != nil || p.DataErr != nil {
		t.Fatalf("push %q data %#v err %v: want the unknown type with nil Data", p.EventType, p.Data, p.DataErr)
	}
	if !strings.Contains(string(p.Raw), `"payload":{"x":[1,2],"big":123456789012345678901234567890.5}}`) {
		t.Fatalf("raw %s: want the whole original line", p.Raw)
	}
	p.Ack()
	waitSim(t, srv, "ACK", func(s snotisim.Summary) bool { return s.Acks == 1 && s.Pending == 0 })
}

// WithDeferredDecode: the push arrives with its line and ids only, Decode
// decodes the rest from the line.
func TestDeferredPushIsDecodedOnDemand(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	runClient(t, clientConfig(t, srv, snoti.ProtocolV2), col, zerolog.Nop(), snoti.WithDeferredDecode())
	if _, err := srv.Publish(snotisim.Event{ProductKey: testPK, EventType: snoti.EventDeviceStatusKV, DID: "d1",
		Fields: map[string]any{"data": map[string]any{"on": 1}}}); err != nil {
		t.Fatal(err)
	}
	p := nextPush(t, col)
	if p.Event != nil || len(p.DeliveryID) == 0 || len(p.Raw) == 0 {
		t.Fatalf("push %+v: want its line and delivery id, no Event before Decode", p)
	}
	p.Decode()
	if kv, ok := p.Data.(*snoti.StatusKV); !ok || string(kv.Values["on"]) != "1" || p.DataErr != nil || p.DID != "d1" || p.EventType != snoti.EventDeviceStatusKV {
		t.Fatalf("event %+v after Decode: want d1's %s with on=1", p.Event, snoti.EventDeviceStatusKV)
	}
	p.Ack()
	waitSim(t, srv, "ACK", func(s snotisim.Summary) bool { return s.Acks == 1 })
}

func TestOneMebibyteLineIsDeliveredAndAcked(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	runClient(t, clientConfig(t, srv, snoti.ProtocolV2), col, zerolog.Nop())
	big := strings.Repeat("A", 1<<20)
	if _, err := srv.Publish(snotisim.Event{ProductKey: testPK, EventType: snoti.EventDeviceStatusKV, DID: "d1",
		Fields: map[string]any{"data": map[string]any{"blob": big}}}); err != nil {
		t.Fatal(err)
	}
	p := nextPush(t, col)
	if len(p.Raw) <= 1<<20 {
		t.Fatalf("raw line of %d bytes: want more than 1 MiB", len(p.Raw))
	}
	kv, ok := p.Data.(*snoti.StatusKV)
	if !ok || len(kv.Values["blob"]) != len(big)+2 {
		t.Fatalf("data %T: want the 1 MiB value decoded", p.Data)
	}
	p.Ack()
	waitSim(t, srv, "ACK", func(s snotisim.Summary) bool { return s.Acks == 1 })
}

func TestInjectedOverlongPushesAreAccepted(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) {
		c.Faults = snotisim.Faults{OverlongEvery: 3, OverlongBytes: 3 << 20}
	})
	h := &ackAll{}
	runClient(t, clientConfig(t, srv, snoti.ProtocolV2), h, zerolog.Nop())
	const n = 6
	publish(t, srv, n)
	sum := waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Acks == n })
	if sum.Redeliveries != 0 || len(h.invalid) != 0 {
		t.Fatalf("ledger %+v, invalid %d: want 3 MiB lines accepted on the same connection", sum, len(h.invalid))
	}
}

func TestLineOverTheLimitIsReportedAndSkipped(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) {
		c.Faults = snotisim.Faults{OverlongEvery: 2, OverlongBytes: 2 << 20}
	})
	col := newCollector()
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.MaxLineBytes = 1 << 20
	c := runClient(t, cfg, col, zerolog.Nop())
	publish(t, srv, 4) // pushes 2 and 4 are over the limit
	for range 2 {
		nextPush(t, col).Ack()
	}
	waitSim(t, srv, "the two normal pushes ACKed", func(s snotisim.Summary) bool { return s.Acks == 2 })
	for range 2 {
		select {
		case inv := <-col.invalid:
			if inv.Kind != snoti.InvalidTooLong || len(inv.Line) == 0 || len(inv.Line) > 64<<10 || inv.Size <= 1<<20 {
				t.Fatalf("invalid %s (%d of %d bytes): want too_long with a bounded prefix", inv.Kind, len(inv.Line), inv.Size)
			}
			// The over-long lines are pushes whose ids are at their start:
			// once quarantined they are ACKed and hold no prefetch slot.
			if !inv.CanAck() || len(inv.DeliveryID) == 0 {
				t.Fatalf("too-long push %.100s: want it ACKable", inv.Line)
			}
			inv.Ack()
		case <-waitCtx(t).Done():
			t.Fatal("timed out waiting for the too-long reports")
		}
	}
	sum := waitSim(t, srv, "the two over-long pushes ACKed too", func(s snotisim.Summary) bool { return s.Acks == 4 })
	if sum.UnknownAcks != 0 || sum.Redeliveries != 0 {
		t.Fatalf("ledger %+v: want the over-long pushes' ids echoed as sent, nothing redelivered", sum)
	}
	if st := c.Stats(); st.Reconnects != 0 || st.Invalid != 2 {
		t.Fatalf("stats %+v: want the connection kept and 2 invalid lines", st)
	}
}

func TestMalformedLinesAreReportedAndTheStreamGoesOn(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV1, func(c *snotisim.Config) {
		c.Faults = snotisim.Faults{MalformedEvery: 1}
	})
	h := &ackAll{}
	c := runClient(t, clientConfig(t, srv, snoti.ProtocolV1), h, zerolog.Nop())
	const n = 9
	publish(t, srv, n)
	waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Acks == n })
	waitUntil(t, "9 invalid lines", func() bool { return c.Stats().Invalid == n })
	h.mu.Lock()
	defer h.mu.Unlock()
	kinds := map[string]int{}
	for _, inv := range h.invalid {
		kinds[inv.Kind]++
		if inv.Reason == "" || len(inv.Line) == 0 {
			t.Errorf("invalid %+v: want the bytes and a reason", inv)
		}
	}
	if kinds[snoti.InvalidJSON] != 6 || kinds[snoti.InvalidNoDeliveryID] != 3 {
		t.Fatalf("invalid kinds %v: want 6 invalid_json and 3 no_delivery_id", kinds)
	}
	if c.Stats().Reconnects != 0 {
		t.Fatal("malformed lines must not cost the connection")
	}
}

func TestCertificateIsVerifiedByDefault(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.CAFile = "" // system roots do not know the simulator
	var logs syncBuffer
	c := runClient(t, cfg, &ackAll{}, zerolog.New(&logs))
	waitUntil(t, "a failed attempt", func() bool { return c.Stats().Reconnects >= 1 })
	if srv.Summary().Logins != 0 || !strings.Contains(logs.String(), "certificate") {
		t.Fatalf("want the handshake refused for an unknown authority, logs:\n%s", logs.String())
	}

	insecure := clientConfig(t, srv, snoti.ProtocolV2)
	insecure.CAFile, insecure.InsecureSkipVerify = "", true
	var ilogs syncBuffer
	ic := runClient(t, insecure, &ackAll{}, zerolog.New(&ilogs))
	waitUntil(t, "insecure login", ic.Ready)
	if !strings.Contains(ilogs.String(), `"level":"warn"`) || !strings.Contains(ilogs.String(), "NOT verified") {
		t.Fatalf("want a warning at connect with verification off, logs:\n%s", ilogs.String())
	}
}
