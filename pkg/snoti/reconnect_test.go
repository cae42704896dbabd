package snoti_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// TestServerDropsMidStream: the server cuts the connection every 7 pushes
// while the client ACKs from a worker goroutine, so ACKs are pending at
// every cut. After 10 cuts the fault is lifted (progress under the fault
// depends on timing; the invariants do not). Every event must end up ACKed
// exactly once, and no ACK may reach a connection other than the one that
// delivered its push.
func TestServerDropsMidStream(t *testing.T) {
	for _, proto := range []string{snoti.ProtocolV1, snoti.ProtocolV2} {
		t.Run(proto, func(t *testing.T) {
			srv := startSim(t, proto, func(c *snotisim.Config) {
				c.Faults = snotisim.Faults{DropEvery: 7}
				c.DeliveryIDs = snotisim.IDMixed
			})
			col := newCollector()
			c := runClient(t, clientConfig(t, srv, proto), col, zerolog.Nop())
			stop := make(chan struct{})
			defer close(stop)
			go func() { // the caller's worker: ACK after "work", out of line
				for {
					select {
					case <-stop:
						return
					case p := <-col.pushes:
						p.Ack()
					}
				}
			}()
			const n = 200
			publish(t, srv, n)
			waitSim(t, srv, "10 cuts", func(s snotisim.Summary) bool { return s.Disconnects >= 10 })
			if err := srv.SetFaults(snotisim.Faults{}); err != nil {
				t.Fatal(err)
			}
			sum := waitSim(t, srv, "every event ACKed", func(s snotisim.Summary) bool { return s.Pending == 0 && s.Messages == n })
			if sum.UnknownAcks != 0 {
				t.Fatalf("ledger %+v: %d ACKs reached a connection that did not deliver them", sum, sum.UnknownAcks)
			}
			if sum.Redeliveries == 0 || c.Stats().Reconnects < 10 {
				t.Fatalf("ledger %+v, stats %+v: want the server to have cut the connection every 7 pushes", sum, c.Stats())
			}
			for _, e := range srv.Entries() {
				if e.Acks != 1 {
					t.Fatalf("entry %+v: want exactly one accepted ACK", e)
				}
			}
		})
	}
}

// TestAckOfALostConnectionIsDropped holds a push across a reconnect and
// ACKs it afterwards: the ACK must not be written to the new connection.
func TestAckOfALostConnectionIsDropped(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	c := runClient(t, clientConfig(t, srv, snoti.ProtocolV2), col, zerolog.Nop())
	publish(t, srv, 1)
	old := nextPush(t, col)
	if got := srv.DropConnections(); got != 1 {
		t.Fatalf("dropped %d connections, want 1", got)
	}
	again := nextPush(t, col) // the redelivery, on the new connection
	if again == old {
		t.Fatal("want the redelivery as a new Push")
	}
	old.Ack()
	if st := c.Stats(); st.AcksDropped != 1 {
		t.Fatalf("stats %+v: want the stale ACK dropped", st)
	}
	again.Ack()
	sum := waitSim(t, srv, "ACK of the redelivery", func(s snotisim.Summary) bool { return s.Acks == 1 })
	if sum.UnknownAcks != 0 || sum.StaleAcks != 0 || sum.Redeliveries != 1 {
		t.Fatalf("ledger %+v: want one redelivery and no stale ACK", sum)
	}
}

// TestUnackedPushesAreRedeliveredOnlyAfterTheConnectionDrops: while the
// connection lives nothing is resent, whatever the wait.
func TestUnackedPushesAreRedeliveredOnlyAfterTheConnectionDrops(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	col := newCollector()
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Heartbeat = 20 * time.Millisecond // pings prove the server reads on
	runClient(t, cfg, col, zerolog.Nop())
	publish(t, srv, 5)
	for range 5 {
		nextPush(t, col)
	}
	sum := waitSim(t, srv, "several heartbeats", func(s snotisim.Summary) bool { return s.Pings >= 5 })
	if sum.Pushes != 5 || sum.Redeliveries != 0 {
		t.Fatalf("ledger %+v: want no resend while the connection lives", sum)
	}
	srv.DropConnections()
	for range 5 {
		nextPush(t, col).Ack()
	}
	sum = waitSim(t, srv, "ACKs after redelivery", func(s snotisim.Summary) bool { return s.Acks == 5 })
	if sum.Redeliveries != 5 || sum.UnknownAcks != 0 {
		t.Fatalf("ledger %+v: want 5 redeliveries after the drop", sum)
	}
}

func TestMessagesAreStoredWhileNoClientIsConnected(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	const n = 40
	publish(t, srv, n) // queue "main" is declared: it stores them
	if sum := srv.Summary(); sum.Backlog != n {
		t.Fatalf("backlog %d, want %d stored", sum.Backlog, n)
	}
	runClient(t, clientConfig(t, srv, snoti.ProtocolV2), &ackAll{}, zerolog.Nop())
	waitSim(t, srv, "stored events delivered", func(s snotisim.Summary) bool { return s.Acks == n && s.Pending == 0 })
}

// TestFailedLoginBacksOff: a wrong secret gives one clear error line per
// attempt, with growing delays, and never a hot loop.
func TestFailedLoginBacksOff(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Products[0].AuthSecret = "wrong"
	cfg.BackoffMin, cfg.BackoffMax = 10*time.Millisecond, 80*time.Millisecond
	var logs syncBuffer
	start := time.Now()
	c := runClient(t, cfg, &ackAll{}, zerolog.New(&logs))
	waitUntil(t, "6 refused logins", func() bool { return c.Stats().LoginFailures >= 6 })
	elapsed := time.Since(start)
	if c.Ready() {
		t.Fatal("ready after a refused login")
	}
	if sum := srv.Summary(); sum.LoginFailures < 6 || sum.Logins != 0 {
		t.Fatalf("ledger %+v: want refused logins only", sum)
	}
	// Lower bounds of the delays before attempts 2..6 (equal jitter: at
	// least half of 10, 20, 40, 80, 80 ms).
	if min := 5*time.Millisecond + 10*time.Millisecond + 20*time.Millisecond + 40*time.Millisecond + 40*time.Millisecond; elapsed < min {
		t.Fatalf("6 attempts in %s: faster than the backoff allows (%s)", elapsed, min)
	}
	var delays []time.Duration
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line struct {
			Level   string  `json:"level"`
			Message string  `json:"message"`
			RetryIn float64 `json:"retry_in"`
			Msg     string  `json:"server_msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line.Level != "error" || !strings.Contains(line.Message, "login refused") || !strings.Contains(line.Message, "whitelist") || line.Msg == "" {
			t.Fatalf("log line %s: want only 'login refused' errors naming the whitelist and the server's message", sc.Text())
		}
		delays = append(delays, time.Duration(line.RetryIn*float64(time.Millisecond)))
	}
	if len(delays) < 5 {
		t.Fatalf("%d log lines: want one per attempt", len(delays))
	}
	// Delay k lies in [d/2, d] for d = min(10ms·2^k, 80ms).
	for k, d := range delays[:5] {
		hi := min(10*time.Millisecond<<k, 80*time.Millisecond)
		if d < hi/2 || d > hi {
			t.Fatalf("delay of attempt %d = %s: want within [%s, %s]; all: %v", k+1, d, hi/2, hi, delays)
		}
	}
}

// TestHeartbeatTimeoutDetectsADeadServer: pings go unanswered, the client
// declares the connection dead and reconnects.
func TestHeartbeatTimeoutDetectsADeadServer(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV1, func(c *snotisim.Config) { c.Faults.NoPong = true })
	cfg := clientConfig(t, srv, snoti.ProtocolV1)
	cfg.Heartbeat, cfg.PongTimeout = 20*time.Millisecond, 50*time.Millisecond
	var logs syncBuffer
	c := runClient(t, cfg, &ackAll{}, zerolog.New(&logs))
	waitUntil(t, "a reconnect after the pong timeout", func() bool { return c.Stats().Reconnects >= 1 })
	if !strings.Contains(logs.String(), "no pong") {
		t.Fatalf("want the pong timeout as the cause, logs:\n%s", logs.String())
	}
}

func TestAnsweredPingsKeepTheConnection(t *testing.T) {
	srv := startSim(t, snoti.ProtocolV2, nil)
	cfg := clientConfig(t, srv, snoti.ProtocolV2)
	cfg.Heartbeat, cfg.PongTimeout = 10*time.Millisecond, 2*time.Second
	c := runClient(t, cfg, &ackAll{}, zerolog.Nop())
	waitSim(t, srv, "10 pings", func(s snotisim.Summary) bool { return s.Pings >= 10 })
	if st := c.Stats(); st.Reconnects != 0 || st.Logins != 1 {
		t.Fatalf("stats %+v: want one connection kept alive by pings", st)
	}
}
