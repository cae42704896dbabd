package snoti_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// TestRefusedSubscriptionIsAnErrorAndNeverRemembered: the server answers
// subscribe_res with result false at the top level (the doc's shape); the
// client returns the refusal and does not send it again at the next
// login, which therefore succeeds.
func TestRefusedSubscriptionIsAnErrorAndNeverRemembered(t *testing.T) {
	const otherPK = "pk0000000000000000000000000other"
	srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) {
		c.Products = append(c.Products, snotisim.Product{ProductKey: otherPK, AuthID: "other-id", AuthSecret: "other-secret"})
	})
	c := runClient(t, clientConfig(t, srv, snoti.ProtocolV2), &ackAll{}, zerolog.Nop())
	waitUntil(t, "login", c.Ready)
	bad := snoti.Product{ProductKey: otherPK, AuthID: "other-id", AuthSecret: "wrong", Subkey: "main", Events: []string{"device.online"}}
	var re *snoti.ReplyError
	if err := c.Subscribe(waitCtx(t), []snoti.Product{bad}); !errors.As(err, &re) || !strings.Contains(re.Msg, "auth failed") {
		t.Fatalf("Subscribe with a wrong secret: %v, want a ReplyError with the server's msg", err)
	}
	good := bad
	good.AuthSecret = "other-secret"
	if err := c.Subscribe(waitCtx(t), []snoti.Product{good}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	srv.DropConnections()
	waitSim(t, srv, "the second login", func(s snotisim.Summary) bool { return s.Logins == 2 && s.Connected == 1 })
	if sum := srv.Summary(); sum.LoginFailures != 0 {
		t.Fatalf("ledger %+v: a login failed, the refused subscription was sent again", sum)
	}
	if _, err := srv.Publish(snotisim.Event{ProductKey: otherPK, EventType: snoti.EventDeviceOnline, DID: "o1"}); err != nil {
		t.Fatal(err)
	}
	waitSim(t, srv, "the accepted subscription kept across the reconnect", func(s snotisim.Summary) bool { return s.Acks == 1 })
}

// TestNotLoggedInLogsInAgainOnTheSameConnection: the server forgets the
// login (4003 to every command after) or says 4001; the client logs in
// again on the same connection, and pushes flow again. ACKs of pushes
// delivered before are not sent: the server redelivers them.
func TestNotLoggedInLogsInAgainOnTheSameConnection(t *testing.T) {
	for _, code := range []int{4003, 4001} {
		t.Run(map[int]string{4001: "4001", 4003: "4003"}[code], func(t *testing.T) {
			srv := startSim(t, snoti.ProtocolV2, nil)
			col := newCollector()
			cfg := clientConfig(t, srv, snoti.ProtocolV2)
			cfg.Heartbeat = 20 * time.Millisecond // its pings meet the 4003
			if code == 4001 {
				cfg.Heartbeat = 5 * time.Minute // only the injected 4001 speaks
			}
			c := runClient(t, cfg, col, zerolog.Nop())
			waitUntil(t, "login", c.Ready)
			publish(t, srv, 2)
			held := nextPush(t, col)
			nextPush(t, col).Ack()
			waitSim(t, srv, "one ACK", func(s snotisim.Summary) bool { return s.Acks == 1 })
			if code == 4003 {
				if n := srv.ForgetLogins(); n != 1 {
					t.Fatalf("forgot %d logins, want 1", n)
				}
			} else {
				srv.ForgetLogins() // the server lost the session and says so with 4001
				if n := srv.SendInvalidMsg(4001, "not login"); n != 1 {
					t.Fatalf("sent to %d connections, want 1", n)
				}
			}
			waitSim(t, srv, "a login again", func(s snotisim.Summary) bool { return s.Logins == 2 && s.Connected == 1 })
			held.Ack() // delivered under the forgotten login: dropped
			again := nextPush(t, col)
			again.Ack()
			sum := waitSim(t, srv, "the redelivery ACKed", func(s snotisim.Summary) bool { return s.Acks == 2 })
			if sum.Connections != 1 || sum.Disconnects != 0 {
				t.Fatalf("ledger %+v: want the same connection", sum)
			}
			if sum.StaleAcks+sum.UnknownAcks != 0 || sum.Redeliveries != 1 || sum.Pending != 0 {
				t.Fatalf("ledger %+v: want the held push redelivered and ACKed once, no ACK of the old login", sum)
			}
			if st := c.Stats(); st.Relogins != 1 || st.Reconnects != 0 || st.AcksDropped != 1 {
				t.Fatalf("stats %+v: want one relogin, no reconnect, the old ACK dropped", st)
			}
		})
	}
}

// TestAlreadyLoggedInNeedsNoAction: 4009 changes nothing.
func TestAlreadyLoggedInNeedsNoAction(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	c := runClient(t, clientConfig(t, srv, snoti.ProtocolV2), col, zerolog.Nop())
	waitUntil(t, "login", c.Ready)
	if n := srv.SendInvalidMsg(4009, "already login"); n != 1 {
		t.Fatalf("sent to %d connections", n)
	}
	publish(t, srv, 1)
	nextPush(t, col).Ack()
	sum := waitSim(t, srv, "the ACK", func(s snotisim.Summary) bool { return s.Acks == 1 })
	if sum.Logins != 1 || sum.Connections != 1 || sum.SecondLogins != 0 {
		t.Fatalf("ledger %+v: want nothing but the one invalid_msg", sum)
	}
	if st := c.Stats(); st.Relogins != 0 || st.Reconnects != 0 || st.Invalid != 0 {
		t.Fatalf("stats %+v: 4009 needs no action", st)
	}
}

// TestNoHeartbeatIsACountedDisconnect: a client silent longer than the
// server's idle rule gets "No Heartbeat!" and the connection dropped; the
// client counts the reason, does not take the line for an invalid push,
// and reconnects.
func TestNoHeartbeatIsACountedDisconnect(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) { c.IdleTimeout = 150 * time.Millisecond })
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Heartbeat = 5 * time.Minute // silent: the simulator's 150ms rule fires first
	inv := &ackAll{}
	c := runClient(t, cfg, inv, zerolog.Nop())
	waitUntil(t, "two No Heartbeat! disconnects and a reconnect", func() bool {
		st := c.Stats()
		return st.NoHeartbeats >= 2 && st.Logins >= 3
	})
	st := c.Stats()
	if st.Invalid != 0 || st.Disconnects < 2 {
		t.Fatalf("stats %+v: want counted disconnects, no invalid line", st)
	}
	if sum := srv.Summary(); sum.NoHeartbeats < 2 {
		t.Fatalf("ledger %+v", sum)
	}
}

// TestOurClientNeverACKsStaleIDs: in stall mode, with ACKs held across
// reconnects, our client's ACKs never reach a connection that did not
// deliver them, so nothing stalls and everything is delivered.
func TestOurClientNeverACKsStaleIDs(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, func(c *snotisim.Config) { c.Faults.StallOnStaleAck = true })
	col := newCollector()
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Prefetch = 10
	c := runClient(t, cfg, col, zerolog.Nop())
	waitUntil(t, "login", c.Ready)
	const n = 30
	publish(t, srv, n)
	var held []*snoti.Push
	for range 10 {
		held = append(held, nextPush(t, col))
	}
	for _, p := range held[:5] {
		p.Ack()
	}
	waitSim(t, srv, "five ACKs", func(s snotisim.Summary) bool { return s.Acks == 5 })
	srv.DropConnections()
	waitSim(t, srv, "the reconnect", func(s snotisim.Summary) bool { return s.Logins == 2 && s.Connected == 1 })
	for _, p := range held[5:] { // the old connection's: must not be sent
		p.Ack()
	}
	ctx := waitCtx(t)
	for srv.Summary().Acks < n { // ACK whatever comes, old connection's pushes included
		select {
		case p := <-col.pushes:
			p.Ack()
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("ledger %+v: not everything delivered", srv.Summary())
		}
	}
	sum := waitSim(t, srv, "all ACKed", func(s snotisim.Summary) bool { return s.Pending == 0 && s.Acks == n })
	if sum.StaleAcks != 0 || sum.Stalls != 0 || sum.UnknownAcks != 0 {
		t.Fatalf("ledger %+v: our client sent stale ACKs", sum)
	}
}
