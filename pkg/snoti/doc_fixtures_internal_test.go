package snoti

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/internal/snotidoc"
)

func loadDocFixtures(t *testing.T) []snotidoc.Fixture {
	t.Helper()
	fs, err := snotidoc.Load("testdata/doc")
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestDocFixturesClientEncodesEveryRequest (a): every request of the doc
// our client sends, encoded by the client from the fixture's values, has
// the documented shape: the same fields, the same JSON types, nothing more.
func TestDocFixturesClientEncodesEveryRequest(t *testing.T) {
	n := 0
	for _, f := range loadDocFixtures(t) {
		if !f.SentByClient() {
			continue
		}
		n++
		t.Run(f.Proto+"/"+f.Name, func(t *testing.T) {
			line, err := clientLineFor(t, f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(string(line), "\n") || strings.Count(string(line), "\n") != 1 {
				t.Fatalf("line %q: want one JSON object ended by \\n", line)
			}
			if diffs := f.Compare(line); len(diffs) > 0 {
				t.Fatalf("%s (doc section %s): client sends %s\n%s", f.Name, f.Section, line, strings.Join(diffs, "\n"))
			}
		})
	}
	if n < 11 {
		t.Fatalf("%d client requests in the fixtures: want every one the client sends", n)
	}
}

// clientLineFor builds, with the client's own encoders, the line it sends
// for the fixture's request.
func clientLineFor(t *testing.T, f snotidoc.Fixture) ([]byte, error) {
	var msg struct {
		Cmd      string          `json:"cmd"`
		MsgID    json.RawMessage `json:"msg_id"`
		Delivery json.RawMessage `json:"delivery_id"`
		Prefetch int             `json:"prefetch_count"`
		Data     json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(f.Message, &msg); err != nil {
		return nil, err
	}
	switch msg.Cmd {
	case "login_req":
		var ps []Product
		if err := json.Unmarshal(msg.Data, &ps); err != nil {
			return nil, err
		}
		c := &Client{cfg: Config{Protocol: ProtocolV2, Prefetch: msg.Prefetch}, products: ps}
		return c.loginLine()
	case "enterprise_login_req":
		var d struct {
			ID       string `json:"enterprise_id"`
			Secret   string `json:"enterprise_secret"`
			Prefetch int    `json:"prefetch_count"`
		}
		if err := json.Unmarshal(msg.Data, &d); err != nil {
			return nil, err
		}
		c := &Client{cfg: Config{Protocol: ProtocolV1, EnterpriseID: d.ID, EnterpriseSecret: d.Secret, Prefetch: d.Prefetch}}
		return c.loginLine()
	case "ping":
		return (&conn{proto: ProtocolV2}).pingLine(), nil
	case "enterprise_ping":
		return (&conn{proto: ProtocolV1}).pingLine(), nil
	case "subscribe_req":
		var ps []Product
		if err := json.Unmarshal(msg.Data, &ps); err != nil {
			return nil, err
		}
		return controlLine("subscribe_req", ps)
	case "unsubscribe_req":
		var ps []Product
		if err := json.Unmarshal(msg.Data, &ps); err != nil {
			return nil, err
		}
		// The caller names product and subkey; auth_id comes from the
		// remembered subscription.
		c := &Client{products: ps}
		subs := make([]Product, len(ps))
		for i, p := range ps {
			subs[i] = Product{ProductKey: p.ProductKey, Subkey: p.Subkey, Events: p.Events}
		}
		return controlLine("unsubscribe_req", c.unsubscribeEntries(subs))
	case "remote_control_v2_req":
		var cmds []struct {
			Cmd  string `json:"cmd"`
			Data struct {
				DID          string          `json:"did"`
				MAC          string          `json:"mac"`
				ProductKey   string          `json:"product_key"`
				BinaryCoding string          `json:"binary_coding"`
				Attrs        map[string]any  `json:"attrs"`
				Raw          json.RawMessage `json:"raw"`
			} `json:"data"`
		}
		if err := json.Unmarshal(msg.Data, &cmds); err != nil {
			return nil, err
		}
		var rcs []RemoteCommand
		coding := ""
		for _, c := range cmds {
			rc := RemoteCommand{Cmd: c.Cmd, DID: c.Data.DID, MAC: c.Data.MAC, ProductKey: c.Data.ProductKey, Attrs: c.Data.Attrs}
			if c.Data.Raw != nil {
				var arr []byte
				var ints []int
				if err := json.Unmarshal(c.Data.Raw, &ints); err != nil {
					return nil, fmt.Errorf("fixture raw: %w", err)
				}
				for _, v := range ints {
					arr = append(arr, byte(v))
				}
				rc.Raw = arr
			}
			if c.Data.BinaryCoding != "" && c.Data.Raw == nil {
				coding = c.Data.BinaryCoding
			}
			rcs = append(rcs, rc)
		}
		return remoteControlLine(json.RawMessage(`"sb-1"`), rcs, coding)
	case "event_ack", "enterprise_event_ack":
		p := &Push{DeliveryID: msg.Delivery, MsgID: msg.MsgID}
		proto := ProtocolV2
		if msg.Cmd == "enterprise_event_ack" {
			proto = ProtocolV1
		}
		return p.appendAck(nil, proto), nil
	default:
		t.Fatalf("fixture %s: no client encoder for cmd %q", f.Name, msg.Cmd)
		return nil, nil
	}
}

// TestDocFixturesClientDecodesEveryReplyAndPush (d): every documented
// reply is understood as the doc means it, and every documented push is
// a push whose ids, type and data come through.
func TestDocFixturesClientDecodesEveryReplyAndPush(t *testing.T) {
	for _, f := range loadDocFixtures(t) {
		if f.Kind == snotidoc.Request {
			continue
		}
		t.Run(f.Proto+"/"+f.Name, func(t *testing.T) {
			w, p, inv := decodeLine(f.Message)
			if inv != nil {
				t.Fatalf("decoded as invalid: %s", inv.Reason)
			}
			if f.Kind == snotidoc.Push {
				checkDocPush(t, f, p)
				return
			}
			if w == nil {
				t.Fatal("a reply decoded as a push")
			}
			checkDocReply(t, f, w)
		})
	}
}

func checkDocPush(t *testing.T, f snotidoc.Fixture, p *Push) {
	t.Helper()
	if p == nil {
		t.Fatal("not decoded as a push")
	}
	if string(p.DeliveryID) != string(f.Field("delivery_id")) || string(p.MsgID) != string(f.Field("msg_id")) {
		t.Fatalf("delivery_id %s msg_id %s: want %s and %s byte for byte", p.DeliveryID, p.MsgID, f.Field("delivery_id"), f.Field("msg_id"))
	}
	var want struct {
		EventType  string `json:"event_type"`
		ProductKey string `json:"product_key"`
		DID        string `json:"did"`
	}
	_ = json.Unmarshal(f.Message, &want)
	if p.EventType != want.EventType || p.ProductKey != want.ProductKey || p.DID != want.DID || p.CreatedAt.IsZero() {
		t.Fatalf("push %+v: want event_type %s, product_key %s, did %q and created_at", p, want.EventType, want.ProductKey, want.DID)
	}
	if p.DataErr != nil {
		t.Fatalf("data of a documented %s: %v", p.EventType, p.DataErr)
	}
	if !knownEventType(p.EventType) {
		t.Fatalf("event_type %s of the doc is not known to the client", p.EventType)
	}
	line := p.appendAck(nil, f.Proto)
	if !strings.Contains(string(line), string(f.Field("delivery_id"))) {
		t.Fatalf("ACK %s does not echo delivery_id %s", line, f.Field("delivery_id"))
	}
}

func checkDocReply(t *testing.T, f snotidoc.Fixture, w *wireMessage) {
	t.Helper()
	switch w.Cmd {
	case cmdLoginResV1, cmdLoginResV2, cmdSubscribeRes, cmdUnsubscribeRes:
		if ok, msg := replyResult(w); !ok {
			t.Fatalf("result true read as refused (%q)", msg)
		}
		refused := strings.Replace(string(f.Message), `"result": true`, `"result": false`, 1)
		refused = strings.Replace(refused, `"msg": "ok"`, `"msg": "auth failed"`, 1)
		rw, _, _ := decodeLine([]byte(refused))
		if ok, msg := replyResult(rw); ok || msg != "auth failed" {
			t.Fatalf("result false read as %v (%q): a refusal must be an error with the server's msg", ok, msg)
		}
	case cmdRemoteRes, cmdRemoteResOld:
		res, err := decodeRemoteResult(w.Result)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Succeed, []string{"docdid0000000000000001"}) ||
			!slices.Equal(res.Failed, []RemoteFailure{{DID: "docdid0000000000000009", Reason: "device offline"}}) {
			t.Fatalf("result %+v: want the documented succeed and failed dids", res)
		}
	case cmdInvalidMsg:
		if w.Msg == "" || (f.Proto == ProtocolV2 && string(w.ErrorCode) != "4001") {
			t.Fatalf("invalid_msg %+v: want msg and (v2) error_code", w)
		}
		c := &conn{log: zerolog.Nop(), loginLine: func() ([]byte, error) { return []byte("{}\n"), nil },
			wake: make(chan struct{}, 1), done: make(chan struct{}), counters: &counters{m: mustMetrics(t)}}
		c.dispatch(w)
		if f.Proto == ProtocolV2 && (!c.reloginPending || c.gen.Load() != 1 || len(c.queue) != 1) {
			t.Fatal("4001 must queue a login on the same connection and retire the pending ACKs")
		}
	case cmdPongV1, cmdPongV2:
	default:
		t.Fatalf("reply cmd %q: not handled by the client", w.Cmd)
	}
}

func mustMetrics(t *testing.T) *Metrics {
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
