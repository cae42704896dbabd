package snotisim_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
)

func startSim(t *testing.T, cfg snotisim.Config) *snotisim.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if len(cfg.Products) == 0 {
		cfg.Products = []snotisim.Product{{ProductKey: benchPK, AuthID: "a", AuthSecret: "s", Subkeys: []string{"main"}}}
	}
	srv, _ := simtest.Start(t, cfg)
	return srv
}

// rawClient speaks the protocol by hand, to see exactly what the server
// sends.
type rawClient struct {
	t    *testing.T
	conn *tls.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, srv *snotisim.Server) *rawClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CertPEM())
	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *rawClient) send(line string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) recv() map[string]any {
	c.t.Helper()
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("reading: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		c.t.Fatalf("line %q: %v", line, err)
	}
	return m
}

func TestRefusedLoginAnswersFalseThenCloses(t *testing.T) {
	tests := []struct {
		name, login, reply string
	}{
		{"v1 wrong secret", `{"cmd":"enterprise_login_req","data":{"enterprise_id":"e","enterprise_secret":"bad","prefetch_count":5}}`, "enterprise_login_res"},
		{"v2 wrong secret", `{"cmd":"login_req","prefetch_count":5,"data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"bad","subkey":"main","events":["device.online"]}]}`, "login_res"},
		{"v2 bad subkey", `{"cmd":"login_req","data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"s","subkey":"no-dash","events":["device.online"]}]}`, "login_res"},
		{"v2 prefetch too large", `{"cmd":"login_req","prefetch_count":40000,"data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"s","subkey":"main","events":["device.online"]}]}`, "login_res"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, snotisim.Config{Enterprises: []snotisim.Enterprise{{ID: "e", Secret: "s"}}})
			c := dial(t, srv)
			c.send(tt.login)
			m := c.recv()
			data, _ := m["data"].(map[string]any)
			if m["cmd"] != tt.reply || data["result"] != false || data["msg"] == "" {
				t.Fatalf("reply %v: want %s with result false and a message", m, tt.reply)
			}
			if _, err := c.r.ReadByte(); !errors.Is(err, io.EOF) {
				t.Fatalf("after a refused login: %v, want the connection closed", err)
			}
			if s := srv.Summary(); s.LoginFailures != 1 || s.Logins != 0 {
				t.Fatalf("ledger %+v", s)
			}
		})
	}
}

func TestProtocolBasicsByHand(t *testing.T) {
	srv := startSim(t, snotisim.Config{DeliveryIDs: snotisim.IDBigNumber, Trace: true, MsgIDShare: 1})
	c := dial(t, srv)
	c.send(`{"cmd":"login_req","prefetch_count":2,"data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"s","subkey":"main","events":["device.online"]}]}`)
	if m := c.recv(); m["cmd"] != "login_res" {
		t.Fatalf("got %v", m)
	}
	c.send(`{"cmd":"ping"}`)
	if m := c.recv(); m["cmd"] != "pong" {
		t.Fatalf("got %v, want pong", m)
	}
	c.send(`garbage`)
	if m := c.recv(); m["cmd"] != "invalid_msg" || m["error_code"] == nil {
		t.Fatalf("got %v, want invalid_msg with an error code", m)
	}
	if _, err := srv.Publish(snotisim.Event{ProductKey: benchPK, EventType: "device_online", DID: "d1"}); err != nil {
		t.Fatal(err)
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var push struct {
		Cmd        string          `json:"cmd"`
		DeliveryID json.RawMessage `json:"delivery_id"`
		MsgID      json.RawMessage `json:"msg_id"`
		SimSeq     uint64          `json:"sim_seq"`
	}
	if err := json.Unmarshal([]byte(line), &push); err != nil || push.Cmd != "event_push" || push.SimSeq != 1 {
		t.Fatalf("push %q: %v", line, err)
	}
	if len(push.DeliveryID) < 19 || push.DeliveryID[0] == '"' {
		t.Fatalf("delivery_id %s: want an integer beyond 2^53", push.DeliveryID)
	}
	retyped := `"` + string(push.DeliveryID) + `"`
	c.send(`{"cmd":"event_ack","delivery_id":` + retyped + `,"msg_id":` + string(push.MsgID) + `}`)
	if m := c.recv(); m["cmd"] != "invalid_msg" {
		t.Fatalf("ACK with the id retyped as a string: got %v, want invalid_msg", m)
	}
	c.send(`{"cmd":"event_ack","delivery_id":` + string(push.DeliveryID) + `,"msg_id":` + string(push.MsgID) + `}`)
	s, err := srv.WaitFor(t.Context(), func(s snotisim.Summary) bool { return s.Acks == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if s.StaleAcks != 1 || s.UnknownAcks != 0 || s.ClientInvalid != 2 || s.Pings != 1 || s.MsgIDMismatches != 0 {
		t.Fatalf("ledger %+v", s)
	}
}

func TestFleetEmitsEveryKindOfEventAndStops(t *testing.T) {
	const n = 3000
	srv, _ := startPair(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 10, MaxEvents: n, Seed: 7}}, 100)
	waitSummary(t, srv, 30*time.Second, func(s snotisim.Summary) bool { return s.Acks == n })
	if s := srv.Summary(); s.Events != n {
		t.Fatalf("ledger %+v: want exactly %d events", s, n)
	}
	seen := map[string]int{}
	for _, e := range srv.Entries() {
		seen[e.EventType]++
	}
	for _, typ := range []string{"device_online", "device_offline", "device_status_raw", "device_status_kv", "attr_alert", "attr_fault"} {
		if seen[typ] == 0 {
			t.Errorf("no %s among %v", typ, seen)
		}
	}
}

func TestFleetStatusRawFramesAndConditions(t *testing.T) {
	srv := startSim(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 3, MaxEvents: 600, Seed: 3}})
	pushes := make(chan *snoti.Push, 1000)
	runClient(t, srv, 100, snoti.HandlerFuncs{OnPush: func(p *snoti.Push) { pushes <- p; p.Ack() }})
	waitSummary(t, srv, 30*time.Second, func(s snotisim.Summary) bool { return s.Acks == 600 })
	def, err := os.ReadFile("fleetdata/ev-charger-standard.json")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := gizwits.Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	open := map[string]string{} // did+attr → event_id of the active condition
	for range 600 {
		p := <-pushes
		switch d := p.Data.(type) {
		case *snoti.StatusRaw:
			// 4-byte prefix, len 0x1a, flag, cmd 0x0091, action 0x04, 22 status bytes.
			if len(d.Raw) != 31 || !strings.HasPrefix(string(d.Raw), "\x00\x00\x00\x03\x1a\x00\x00\x91\x04") {
				t.Fatalf("status frame %x: want a standard status report of the EV charger", d.Raw)
			}
			if _, err := codec.Decode(d.Raw); err != nil {
				t.Fatalf("status frame %x does not decode: %v", d.Raw, err)
			}
		case *snoti.AttrEvent:
			key := p.DID + "/" + d.AttrName
			if d.Occurs() {
				open[key] = d.EventID
			} else if open[key] != d.EventID {
				t.Fatalf("recovery of %s with event_id %q, occurrence had %q", key, d.EventID, open[key])
			} else {
				delete(open, key)
			}
		case *snoti.StatusKV:
			if len(d.Values) != 14 {
				t.Fatalf("kv with %d values, want the 14 data points", len(d.Values))
			}
		}
		if p.DataErr != nil {
			t.Fatalf("push %s: %v", p.Raw, p.DataErr)
		}
	}
}

func TestFleetKeepsItsRate(t *testing.T) {
	start := time.Now()
	srv := startSim(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 5, Rate: 2000, MaxEvents: 500}})
	waitSummary(t, srv, 30*time.Second, func(s snotisim.Summary) bool { return s.Events == 500 })
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("500 events at 2000/s took %s: faster than the rate", el)
	}
}

// TestFleetStartOnLogin: a fleet with StartOnLogin publishes nothing
// before the first login, however long the simulator has run, and then
// its rate counts from the login: no burst of what it would have published
// before.
func TestFleetStartOnLogin(t *testing.T) {
	const rate, n = 1000, 300
	srv := startSim(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 5, Rate: rate, MaxEvents: n, Seed: 1, StartOnLogin: true}})
	// The clock: the same fleet without the option, started after srv,
	// has published 200 events at 1000/s, so srv's has run 200 ms too.
	clock := startSim(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 5, Rate: rate, MaxEvents: n, Seed: 1}})
	waitSummary(t, clock, 30*time.Second, func(s snotisim.Summary) bool { return s.Events >= 200 })
	if s := srv.Summary(); s.Events != 0 {
		t.Fatalf("%d events published before any login", s.Events)
	}
	loginAt := time.Now()
	runClient(t, srv, 100, snoti.HandlerFuncs{OnPush: func(p *snoti.Push) { p.Ack() }})
	waitSummary(t, srv, 30*time.Second, func(s snotisim.Summary) bool { return s.Acks == n })
	entries := srv.Entries()
	first := entries[0].Published
	for _, e := range entries {
		if e.Published.Before(loginAt) {
			t.Fatalf("event %d published at %s, before the login at %s", e.Seq, e.Published, loginAt)
		}
		if e.Published.Before(first) {
			first = e.Published
		}
	}
	// From the login at 1000/s: about 10 events in its first 10 ms; the
	// 200 ms before the login would have come as a burst of 200.
	burst := 0
	for _, e := range entries {
		if e.Published.Sub(first) < 10*time.Millisecond {
			burst++
		}
	}
	if burst >= 100 {
		t.Fatalf("%d events published within 10 ms of the first: a burst, not the rate from the login", burst)
	}
}

func TestBacklogExpiresOldestAndLedgerIsBounded(t *testing.T) {
	srv := startSim(t, snotisim.Config{MaxBacklog: 5, LedgerSize: 10})
	for range 50 {
		if _, err := srv.Publish(snotisim.Event{ProductKey: benchPK, EventType: "device_offline", DID: "d"}); err != nil {
			t.Fatal(err)
		}
	}
	s := srv.Summary()
	if s.Backlog != 5 || s.Expired != 45 || s.Pending != 5 {
		t.Fatalf("ledger %+v: want 5 kept and 45 expired", s)
	}
	if n := len(srv.Entries()); n < 10 || n >= 20 {
		t.Fatalf("%d entries held: want between LedgerSize and twice it", n)
	}
}

func TestControlAPI(t *testing.T) {
	srv := startSim(t, snotisim.Config{})
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	do := func(method, path, body string, out any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, api.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
	}
	do(http.MethodPut, "/faults", `{"drop_every":3,"delay":"5ms","no_pong":true}`, nil)
	if f := srv.Faults(); f.DropEvery != 3 || f.Delay != 5*time.Millisecond || !f.NoPong {
		t.Fatalf("faults %+v", f)
	}
	var f snotisim.Faults
	do(http.MethodGet, "/faults", "", &f)
	if f != srv.Faults() {
		t.Fatalf("GET /faults %+v", f)
	}
	var pub struct{ Seq uint64 }
	do(http.MethodPost, "/events", `{"product_key":"`+benchPK+`","event_type":"device_status_raw","did":"d1","fields":{"data":"`+base64.StdEncoding.EncodeToString([]byte{0, 0, 0, 3})+`"}}`, &pub)
	if pub.Seq != 1 {
		t.Fatalf("seq %d", pub.Seq)
	}
	var ledger struct{ Summary snotisim.Summary }
	do(http.MethodGet, "/ledger", "", &ledger)
	if ledger.Summary.Events != 1 || ledger.Summary.Backlog != 1 {
		t.Fatalf("ledger %+v", ledger.Summary)
	}
	var entries []snotisim.Entry
	do(http.MethodGet, "/ledger/entries?since=0", "", &entries)
	if len(entries) != 1 || entries[0].Seq != 1 || entries[0].Queue != "v2/"+benchPK+"/main" {
		t.Fatalf("entries %+v", entries)
	}
	do(http.MethodPost, "/connections/drop", "", nil)
	var conns []snotisim.ConnectionInfo
	do(http.MethodGet, "/connections", "", &conns)

	c := dial(t, srv)
	c.send(`{"cmd":"login_req","data":[]}`)
	c.recv()
	var sent struct{ Sent int }
	do(http.MethodPost, "/connections/invalid?code=4009", "", &sent)
	if m := c.recv(); sent.Sent != 1 || m["cmd"] != "invalid_msg" || m["error_code"] != 4009.0 {
		t.Fatalf("sent %d, got %v: want invalid_msg 4009", sent.Sent, m)
	}
	var out struct {
		LoggedOut int `json:"logged_out"`
	}
	do(http.MethodPost, "/connections/logout", "", &out)
	c.send(`{"cmd":"ping"}`)
	if m := c.recv(); out.LoggedOut != 1 || m["error_code"] != 4003.0 {
		t.Fatalf("logged out %d, got %v: want invalid_msg 4003", out.LoggedOut, m)
	}
}
