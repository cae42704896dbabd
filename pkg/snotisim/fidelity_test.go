package snotisim_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

const benchLogin = `{"cmd":"login_req","prefetch_count":%d,"data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"s","subkey":"main","events":%s}]}`

type pushLine struct {
	Cmd        string          `json:"cmd"`
	DeliveryID json.RawMessage `json:"delivery_id"`
	MsgID      json.RawMessage `json:"msg_id"`
	EventType  string          `json:"event_type"`
	DID        string          `json:"did"`
	Data       json.RawMessage `json:"data"`
}

func (c *rawClient) push() pushLine {
	c.t.Helper()
	var p pushLine
	line := c.line()
	if err := json.Unmarshal(line, &p); err != nil || p.Cmd != "event_push" {
		c.t.Fatalf("want a push, got %s (%v)", line, err)
	}
	return p
}

func (c *rawClient) ack(p pushLine) {
	c.t.Helper()
	if p.MsgID != nil {
		c.send(`{"cmd":"event_ack","delivery_id":` + string(p.DeliveryID) + `,"msg_id":` + string(p.MsgID) + `}`)
		return
	}
	c.send(`{"cmd":"event_ack","delivery_id":` + string(p.DeliveryID) + `}`)
}

func publishN(t *testing.T, srv *snotisim.Server, n int) {
	t.Helper()
	es := make([]snotisim.Event, n)
	for i := range es {
		es[i] = snotisim.Event{ProductKey: benchPK, EventType: "device_status_kv", DID: "d1", Fields: map[string]any{"data": map[string]any{"n": i}}}
	}
	if _, err := srv.PublishBatch(es); err != nil {
		t.Fatal(err)
	}
}

// TestStaleAcksAreCaughtAndStall: a client that keeps the ACKs of an old
// connection and sends them on the new one (delivery ids are scoped to a
// connection) is counted in the ledger, and in stall mode that connection
// gets no more pushes, as the real server is reported to do.
func TestStaleAcksAreCaughtAndStall(t *testing.T) {
	for _, stall := range []bool{false, true} {
		t.Run(fmt.Sprintf("stall=%v", stall), func(t *testing.T) {
			srv := startSim(t, snotisim.Config{Faults: snotisim.Faults{StallOnStaleAck: stall}})
			publishN(t, srv, 30)
			c := dial(t, srv)
			c.send(fmt.Sprintf(benchLogin, 10, `["device.status.kv"]`))
			c.line()
			var first []pushLine
			for range 10 {
				first = append(first, c.push())
			}
			for _, p := range first[:5] {
				c.ack(p)
			}
			waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.Acks == 5 })
			_ = c.conn.Close()
			waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.Connected == 0 })

			c2 := dial(t, srv) // the bad client: its pending ACKs survive the reconnect
			c2.send(fmt.Sprintf(benchLogin, 3, `["device.status.kv"]`))
			c2.line()
			var second []pushLine
			for range 3 {
				second = append(second, c2.push())
			}
			for _, p := range first[5:] { // ids 6..10 of the old connection
				c2.ack(p)
			}
			sum := waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.StaleAcks == 5 })
			if stall && sum.Stalls != 1 {
				t.Fatalf("ledger %+v: want the connection stalled", sum)
			}
			for _, p := range second {
				c2.ack(p)
			}
			sum = waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.Acks == 8 })
			if stall {
				_ = c2.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				if _, err := c2.r.ReadByte(); err == nil {
					t.Fatal("a push after a stale ACK in stall mode")
				}
				if got := srv.Summary(); got.Pushes != sum.Pushes || got.Backlog == 0 {
					t.Fatalf("ledger %+v: want nothing pushed after the stall", got)
				}
				return
			}
			for range 3 { // not stalled: the invalid_msg answers, then the flow goes on
				if m := c2.recv(); m["cmd"] != "invalid_msg" {
					c2.t.Fatalf("got %v, want invalid_msg for the stale ACKs", m)
				}
			}
		})
	}
}

// TestCommandsBeforeLoginAre4001AndKeepTheConnection, then a login works;
// a second login is answered 4009 and changes nothing.
func TestCommandsBeforeLoginAre4001AndKeepTheConnection(t *testing.T) {
	srv := startSim(t, snotisim.Config{})
	c := dial(t, srv)
	c.send(`{"cmd":"ping"}`)
	c.send(`{"cmd":"subscribe_req","data":[]}`)
	for range 2 {
		if m := c.recv(); m["cmd"] != "invalid_msg" || m["error_code"] != 4001.0 {
			t.Fatalf("got %v, want invalid_msg 4001", m)
		}
	}
	c.send(fmt.Sprintf(benchLogin, 5, `["device.status.kv"]`))
	if m := c.recv(); m["cmd"] != "login_res" {
		t.Fatalf("got %v, want login_res", m)
	}
	c.send(fmt.Sprintf(benchLogin, 5, `["device.status.kv"]`))
	if m := c.recv(); m["cmd"] != "invalid_msg" || m["error_code"] != 4009.0 {
		t.Fatalf("got %v, want invalid_msg 4009", m)
	}
	publishN(t, srv, 1)
	c.ack(c.push())
	sum := waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.Acks == 1 })
	if sum.Logins != 1 || sum.NotLoggedIn != 2 || sum.SecondLogins != 1 || sum.Connections != 1 {
		t.Fatalf("ledger %+v", sum)
	}
	srv.ForgetLogins()
	c.send(`{"cmd":"ping"}`)
	if m := c.recv(); m["cmd"] != "invalid_msg" || m["error_code"] != 4003.0 {
		t.Fatalf("got %v, want invalid_msg 4003 after the login was forgotten", m)
	}
}

// TestNotiClientStyleLoginThenSubscribe: noti-client logs in with
// "data":[] and subscribes each product afterwards; unknown event names
// (the doc-linked Python client's default list has device.attrs_fault)
// are accepted and ignored; each queue gets only the types it asked for.
func TestNotiClientStyleLoginThenSubscribe(t *testing.T) {
	srv := startSim(t, snotisim.Config{})
	c := dial(t, srv)
	c.send(`{"cmd":"login_req","prefetch_count":50,"data":[]}`)
	if m := c.recv(); m["cmd"] != "login_res" || m["data"].(map[string]any)["result"] != true {
		t.Fatalf("got %v, want a successful login", m)
	}
	c.send(`{"cmd":"subscribe_req","data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"s","subkey":"main","events":["device.online","device.attrs_fault","device.status.kv"]}]}`)
	if m := c.recv(); m["cmd"] != "subscribe_res" || m["result"] != true || m["msg"] != "ok" {
		t.Fatalf("got %v, want subscribe_res with result true at the top level", m)
	}
	for _, typ := range []string{"attr_fault", "device_status_raw", "device_status_kv", "attr_alert", "device_online"} {
		if _, err := srv.Publish(snotisim.Event{ProductKey: benchPK, EventType: typ, DID: "d1"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"device_status_kv", "device_online"} {
		p := c.push()
		if p.EventType != want {
			t.Fatalf("got %s, want %s: only the subscribed types", p.EventType, want)
		}
		c.ack(p)
	}
	sum := waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.Acks == 2 })
	if sum.UnknownEvents != 1 || sum.Messages != 2 {
		t.Fatalf("ledger %+v: want the unknown name counted and only 2 of 5 events queued", sum)
	}
	c.send(`{"cmd":"subscribe_req","data":[{"product_key":"` + benchPK + `","auth_id":"a","auth_secret":"wrong","subkey":"main","events":["device.online"]}]}`)
	if m := c.recv(); m["cmd"] != "subscribe_res" || m["result"] != false || m["msg"] == "" {
		t.Fatalf("got %v, want result false at the top level", m)
	}
}

// TestRemoteWriteShowsInTheNextStatusPush: a write_attrs to a fleet device
// is applied to it, its next status report carries the value; an offline
// device is reported in failed.
func TestRemoteWriteShowsInTheNextStatusPush(t *testing.T) {
	srv := startSim(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 2, MaxEvents: 2, Seed: 1}})
	c := dial(t, srv)
	c.send(fmt.Sprintf(benchLogin, 100, `["device.online","device.offline","device.status.kv"]`))
	c.line()
	online := map[string]bool{}
	for range 2 { // the fleet starts with each device coming online
		p := c.push()
		online[p.DID] = p.EventType == "device_online"
		c.ack(p)
	}
	if !online["simdev0000000000000000"] {
		t.Fatalf("pushes %v: want simdev…0 online", online)
	}
	if _, err := srv.Publish(snotisim.Event{ProductKey: benchPK, EventType: "device_offline", DID: "simdev0000000000000001"}); err != nil {
		t.Fatal(err)
	}
	c.ack(c.push())
	c.send(`{"cmd":"remote_control_v2_req","msg_id":"w1","data":[` +
		`{"cmd":"write_attrs","source":"noti","data":{"did":"simdev0000000000000000","mac":"5ca1ab000000","product_key":"` + benchPK + `","attrs":{"current_limit":17,"mode":"scheduled","charge_enable":1}}},` +
		`{"cmd":"write_attrs","source":"noti","data":{"did":"simdev0000000000000001","mac":"5ca1ab000001","product_key":"` + benchPK + `","attrs":{"current_limit":17}}},` +
		`{"cmd":"write","data":{"did":"simdev0000000000000000","mac":"5ca1ab000000","product_key":"` + benchPK + `","raw":[5,1]}},` +
		`{"cmd":"write","source":"noti","data":{"did":"simdev0000000000000000","mac":"5ca1ab000000","product_key":"` + benchPK + `","raw":"BQE="}}]}`)
	var res struct {
		Cmd    string `json:"cmd"`
		MsgID  string `json:"msg_id"`
		Result struct {
			Succeed []struct{ DID string } `json:"succeed"`
			Failed  []struct {
				DID    string `json:"did"`
				Reason string `json:"reason"`
			} `json:"failed"`
		} `json:"result"`
	}
	var status pushLine
	for res.Cmd == "" || status.Cmd == "" {
		line := c.line()
		if strings.Contains(string(line), `"remote_control_v2_res"`) {
			if err := json.Unmarshal(line, &res); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := json.Unmarshal(line, &status); err != nil || status.EventType != "device_status_kv" {
			t.Fatalf("got %s, want the device's status report", line)
		}
		c.ack(status)
	}
	if res.MsgID != "w1" || len(res.Result.Succeed) != 2 || len(res.Result.Failed) != 2 ||
		res.Result.Failed[0].Reason != "device offline" || !strings.Contains(res.Result.Failed[1].Reason, "not hex") {
		t.Fatalf("reply %+v: want the online writes (one without source, as public clients send) done; offline and a base64 string read as hex failed", res)
	}
	var kv map[string]any
	_ = json.Unmarshal(status.Data, &kv)
	if status.DID != "simdev0000000000000000" || kv["current_limit"] != 17.0 || kv["mode"] != "scheduled" || kv["charge_enable"] != 1.0 {
		t.Fatalf("status %s of %s: want the written values", status.Data, status.DID)
	}
	if sum := srv.Summary(); sum.RemoteWrites != 2 || sum.RemoteNoSource != 1 {
		t.Fatalf("ledger %+v", sum)
	}
}

// TestIdleConnectionGetsNoHeartbeat: nothing from the client for the idle
// timeout: the bare line "No Heartbeat!", then the connection closes.
func TestIdleConnectionGetsNoHeartbeat(t *testing.T) {
	srv := startSim(t, snotisim.Config{IdleTimeout: 100 * time.Millisecond})
	c := dial(t, srv)
	c.send(fmt.Sprintf(benchLogin, 5, `["device.online"]`))
	c.line()
	if line := c.line(); string(line) != "No Heartbeat!\n" {
		t.Fatalf("got %q, want the bare No Heartbeat! line", line)
	}
	if _, err := c.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after No Heartbeat!: %v, want the connection closed", err)
	}
	waitSummary(t, srv, 20*time.Second, func(s snotisim.Summary) bool { return s.NoHeartbeats == 1 && s.Disconnects == 1 })
}
