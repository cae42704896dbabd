package snotisim_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/snotidoc"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

const (
	docPK     = "pk0000000000000000000000000docs1"
	docDID    = "docdid0000000000000001"
	docEntID  = "doc-enterprise"
	docEntSec = "doc-enterprise-secret"
)

func docFixtures(t *testing.T) []snotidoc.Fixture {
	t.Helper()
	fs, err := snotidoc.Load("../snoti/testdata/doc")
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// docSimConfig accepts the fixtures' credentials.
func docSimConfig() snotisim.Config {
	return snotisim.Config{
		Products:    []snotisim.Product{{ProductKey: docPK, AuthID: "doc-auth-id", AuthSecret: "doc-auth-secret"}},
		Enterprises: []snotisim.Enterprise{{ID: docEntID, Secret: docEntSec}},
		MsgIDShare:  1,
	}
}

// line reads one raw line.
func (c *rawClient) line() []byte {
	c.t.Helper()
	b, err := c.r.ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("reading: %v", err)
	}
	return b
}

// TestDocFixturesSimulatorParsesEveryRequest (b) and (c) for replies:
// every documented request, sent as the doc writes it, is understood, and
// the simulator's reply has exactly the documented fields.
func TestDocFixturesSimulatorParsesEveryRequest(t *testing.T) {
	fs := docFixtures(t)
	logins := map[string]snotidoc.Fixture{}
	for _, f := range fs {
		if f.Cmd() == "login_req" || f.Cmd() == "enterprise_login_req" {
			logins[f.Proto] = f
		}
	}
	replyOf := map[string]string{
		"login_req": "login_res", "enterprise_login_req": "enterprise_login_res", "ping": "pong", "enterprise_ping": "enterprise_pong",
		"subscribe_req": "subscribe_res", "unsubscribe_req": "unsubscribe_res",
		"remote_control_v2_req": "remote_control_v2_res", "remote_control_req": "remote_control_res",
	}
	n := 0
	for _, f := range fs {
		if f.Kind != snotidoc.Request {
			continue
		}
		n++
		t.Run(f.Proto+"/"+f.Name, func(t *testing.T) {
			srv := startSim(t, docSimConfig())
			replies := snotidoc.ByCmd(fs, f.Proto, snotidoc.Reply)
			c := dial(t, srv)
			login := logins[f.Proto]
			c.send(string(compact(t, login.Message)))
			checkReply(t, replies, c.line())
			if f.Cmd() == login.Cmd() {
				return
			}
			if _, err := srv.Publish(snotisim.Event{ProductKey: docPK, EventType: "device_online", DID: docDID, MAC: "aabbccddeeff"}); err != nil {
				t.Fatal(err)
			}
			push := c.line() // login_req subscribes device.online; v1 takes every event
			msg := compact(t, f.Message)
			if strings.HasSuffix(f.Cmd(), "event_ack") {
				var p map[string]json.RawMessage
				_ = json.Unmarshal(push, &p)
				ack := map[string]json.RawMessage{"cmd": f.Field("cmd"), "delivery_id": p["delivery_id"]}
				if f.Field("msg_id") != nil {
					ack["msg_id"] = p["msg_id"]
				}
				msg, _ = json.Marshal(ack)
				c.send(string(msg))
				if _, err := srv.WaitFor(t.Context(), func(s snotisim.Summary) bool { return s.Acks == 1 }); err != nil {
					t.Fatal(err)
				}
				if s := srv.Summary(); s.MsgIDMismatches+s.StaleAcks+s.UnknownAcks+s.ClientInvalid != 0 {
					t.Fatalf("ledger %+v: the documented ACK was not taken as is", s)
				}
				return
			}
			c.send(string(msg))
			got := c.line()
			if cmd := replyCmd(got); cmd != replyOf[f.Cmd()] {
				t.Fatalf("%s answered with %s, want %s", f.Cmd(), got, replyOf[f.Cmd()])
			}
			checkReply(t, replies, got)
			if strings.HasPrefix(f.Cmd(), "remote_control") {
				if !bytes.Contains(got, []byte(`"succeed":[{"did":"`+docDID+`"}]`)) && !bytes.Contains(got, []byte(`"succeed":["`+docDID+`"]`)) {
					t.Fatalf("reply %s: want the online device in succeed", got)
				}
			}
			if f.Proto == "v2" {
				c.send(`{"cmd":"no_such_cmd"}`)
				checkReply(t, replies, c.line())
			}
		})
	}
	if n < 12 {
		t.Fatalf("%d requests in the fixtures", n)
	}
}

// TestDocFixturesRemoteControlReplyOmitsAbsentMsgID: "如请求消息中不存在该
// 字段，回复消息中将不会出现该字段".
func TestDocFixturesRemoteControlReplyOmitsAbsentMsgID(t *testing.T) {
	srv := startSim(t, docSimConfig())
	c := dial(t, srv)
	c.send(`{"cmd":"login_req","data":[{"product_key":"` + docPK + `","auth_id":"doc-auth-id","auth_secret":"doc-auth-secret","subkey":"s","events":["device.online"]}]}`)
	c.line()
	c.send(`{"cmd":"remote_control_v2_req","data":[{"cmd":"write","source":"noti","data":{"did":"ghost","mac":"aabbccddeeff","product_key":"` + docPK + `","raw":[1]}}]}`)
	got := c.line()
	if bytes.Contains(got, []byte("msg_id")) || !bytes.Contains(got, []byte(`"failed":[{"did":"ghost","reason":"device not found"}]`)) {
		t.Fatalf("reply %s: want no msg_id and the unknown device in failed", got)
	}
}

func replyCmd(line []byte) string {
	var m struct {
		Cmd string `json:"cmd"`
	}
	_ = json.Unmarshal(line, &m)
	return m.Cmd
}

func checkReply(t *testing.T, replies map[string]snotidoc.Fixture, got []byte) {
	t.Helper()
	f, ok := replies[replyCmd(got)]
	if !ok {
		t.Fatalf("reply %s: no documented reply of that cmd", got)
	}
	if diffs := f.Compare(got); len(diffs) > 0 {
		t.Fatalf("reply %s differs from the doc's %s (%s):\n%s", got, f.Name, f.Section, strings.Join(diffs, "\n"))
	}
}

func compact(t *testing.T, raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDocFixturesPushesHaveTheDocumentedFields (c) for pushes: the fleet,
// at a mix of every event type, pushes each type with exactly the doc's
// fields, in v2 and in v1.
func TestDocFixturesPushesHaveTheDocumentedFields(t *testing.T) {
	fs := docFixtures(t)
	for _, proto := range []string{"v2", "v1"} {
		t.Run(proto, func(t *testing.T) {
			cfg := docSimConfig()
			cfg.MsgIDShare = 0.5
			cfg.Fleet = snotisim.Fleet{Devices: 8, MaxEvents: 4000, Seed: 5, Mix: snotisim.AllEventsMix()}
			srv := startSim(t, cfg)
			c := dial(t, srv)
			if proto == "v1" {
				c.send(`{"cmd":"enterprise_login_req","data":{"enterprise_id":"` + docEntID + `","enterprise_secret":"` + docEntSec + `","prefetch_count":32767}}`)
			} else {
				events, _ := json.Marshal(snoti.Subscriptions())
				c.send(`{"cmd":"login_req","prefetch_count":32767,"data":[{"product_key":"` + docPK + `","auth_id":"doc-auth-id","auth_secret":"doc-auth-secret","subkey":"all","events":` + string(events) + `}]}`)
			}
			c.line()
			want := snotidoc.ByCmd(fs, proto, snotidoc.Push)
			seen := map[string]int{}
			withMsgID := 0
			deadline := time.Now().Add(60 * time.Second)
			_ = c.conn.SetReadDeadline(deadline)
			for len(seen) < len(want) || seen["device_status_kv"] < 50 {
				got := c.line()
				var p struct {
					EventType string          `json:"event_type"`
					MsgID     json.RawMessage `json:"msg_id"`
				}
				if err := json.Unmarshal(got, &p); err != nil {
					t.Fatal(err)
				}
				f, ok := want[p.EventType]
				if !ok {
					t.Fatalf("push %s: an event type the %s doc does not list", got, proto)
				}
				if diffs := f.Compare(got); len(diffs) > 0 {
					t.Fatalf("push %s differs from the doc's %s (%s):\n%s", got, f.Name, f.Section, strings.Join(diffs, "\n"))
				}
				if p.MsgID != nil {
					withMsgID++
				}
				seen[p.EventType]++
			}
			total := 0
			for _, n := range seen {
				total += n
			}
			if proto == "v1" && withMsgID != 0 {
				t.Fatalf("%d v1 pushes with a msg_id: v1 has none", withMsgID)
			}
			if proto == "v2" && (withMsgID < total/3 || withMsgID > 2*total/3) {
				t.Fatalf("%d of %d v2 pushes with a msg_id: want about half", withMsgID, total)
			}
		})
	}
}
