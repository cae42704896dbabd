package snoti

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func newTestConn(t *testing.T, log zerolog.Logger) (*conn, *bufio.Reader) {
	t.Helper()
	client, server := net.Pipe()
	cfg := Config{Protocol: ProtocolV2}.withDefaults()
	m, _ := NewMetrics(nil)
	c := newConn(client, &cfg, log, &counters{m: m}, func() ([]byte, error) { return []byte("{\"cmd\":\"login_req\"}\n"), nil })
	done := make(chan struct{})
	go func() { defer close(done); c.writeLoop() }()
	t.Cleanup(func() {
		c.close(nil)
		_ = server.Close()
		<-done
	})
	return c, bufio.NewReader(server)
}

// TestAcksLeaveInCompletionOrderWithoutBlocking: while the socket accepts
// nothing (net.Pipe blocks writes until read), Ack calls still return, and
// the ACKs go out in the order Ack was called, not in delivery order.
func TestAcksLeaveInCompletionOrderWithoutBlocking(t *testing.T) {
	c, server := newTestConn(t, zerolog.Nop())
	const n = 2000
	pushes := make([]*Push, n)
	for i := range pushes {
		pushes[i] = &Push{DeliveryID: json.RawMessage(fmt.Sprint(i)), conn: c}
	}
	order := make([]int, 0, n)
	for i := n - 1; i >= 0; i -= 2 { // odd ids backwards, then even ids
		order = append(order, i)
	}
	for i := n - 2; i >= 0; i -= 2 {
		order = append(order, i)
	}
	acked := make(chan struct{})
	go func() {
		for _, i := range order {
			pushes[i].Ack()
			pushes[i].Ack() // a second call is ignored
		}
		close(acked)
	}()
	select {
	case <-acked: // every Ack returned while nobody read the socket
	case <-time.After(10 * time.Second):
		t.Fatal("Ack blocked on a socket that is not being read")
	}
	for k, i := range order {
		line, err := server.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"cmd":"event_ack","delivery_id":%d}`+"\n", i)
		if line != want {
			t.Fatalf("ack %d: got %q, want %q", k, line, want)
		}
	}
	// The writer counts a batch once its write returned, just after the
	// reader got the last byte.
	waitFor(t, func() bool { return c.counters.snapshot().AcksSent == n }, "all ACKs counted as sent")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func TestAckAfterCloseIsDroppedAndCounted(t *testing.T) {
	c, _ := newTestConn(t, zerolog.Nop())
	c.close(nil)
	p := &Push{DeliveryID: json.RawMessage("1"), conn: c}
	p.Ack()
	if st := c.counters.snapshot(); st.AcksDropped != 1 || st.AcksSent != 0 {
		t.Fatalf("stats %+v: want the ACK dropped", st)
	}
}

func TestInvalidMsgIsLoggedWithWhatWasSent(t *testing.T) {
	var logs bytes.Buffer
	c, server := newTestConn(t, zerolog.New(&logs))
	if err := c.send([]byte(`{"cmd":"subscribe_req","data":[{"product_key":"pk","auth_id":"a","auth_secret":"top\"secret"}]}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := server.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	// The writer records what it sent right after the write returns.
	waitFor(t, func() bool { return len(c.recentlySent()) > 0 }, "the written line remembered")
	c.dispatch(&wireMessage{Cmd: cmdInvalidMsg, Msg: "bad request", ErrorCode: json.RawMessage("4000")})
	out := logs.String()
	if !strings.Contains(out, "bad request") || !strings.Contains(out, `subscribe_req`) || !strings.Contains(out, `"error_code":4000`) {
		t.Fatalf("log %s: want the server's message, its code and what was sent", out)
	}
	if strings.Contains(out, "top") || !strings.Contains(out, "***") {
		t.Fatalf("the auth secret must be masked, log: %q", out)
	}
}

// TestFlushAcksWaitsForEarlierAcks: FlushAcks returns once every ACK
// queued before it is written, and at once without a connection.
func TestFlushAcksWaitsForEarlierAcks(t *testing.T) {
	c, server := newTestConn(t, zerolog.Nop())
	cl := &Client{counters: c.counters}
	if err := cl.FlushAcks(t.Context()); err != nil {
		t.Fatalf("FlushAcks without a connection: %v", err)
	}
	cl.cur.Store(c)
	for i := range 3 {
		(&Push{DeliveryID: json.RawMessage(fmt.Sprint(i)), conn: c}).Ack()
	}
	flushed := make(chan error, 1)
	go func() { flushed <- cl.FlushAcks(t.Context()) }()
	for i := range 3 { // net.Pipe: the writer is blocked until these reads
		if line, err := server.ReadString('\n'); err != nil || !strings.Contains(line, fmt.Sprintf(`"delivery_id":%d`, i)) {
			t.Fatalf("ack %d: %q, %v", i, line, err)
		}
	}
	if err := <-flushed; err != nil {
		t.Fatalf("FlushAcks: %v", err)
	}
	if sent := c.recentlySent(); len(sent) == 0 || !strings.Contains(sent[len(sent)-1], `"delivery_id":2`) || slices.Contains(sent, "") {
		t.Fatalf("recently sent %q: want the last ACK last, and nothing for the barrier", sent)
	}
	c.close(nil)
	if err := cl.FlushAcks(t.Context()); err != nil {
		t.Fatalf("FlushAcks after close: %v", err)
	}
}
