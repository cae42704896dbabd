package snoti_test

import (
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
