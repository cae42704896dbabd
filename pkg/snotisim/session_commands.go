package snotisim

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// clientMsg holds every field a client command may carry.
type clientMsg struct {
	Cmd           string          `json:"cmd"`
	DeliveryID    json.RawMessage `json:"delivery_id"`
	MsgID         json.RawMessage `json:"msg_id"`
	PrefetchCount *int            `json:"prefetch_count"`
	Data          json.RawMessage `json:"data"`
	BinaryCoding  string          `json:"binary_coding"`
}

// v2Entry is one product of a v2 login, subscribe or unsubscribe.
type v2Entry struct {
	ProductKey string   `json:"product_key"`
	AuthID     string   `json:"auth_id"`
	AuthSecret string   `json:"auth_secret"`
	Subkey     string   `json:"subkey"`
	Events     []string `json:"events"`
}

// serve runs the connection: login within the login timeout, then
// commands until the client or a fault closes it.
func (s *session) serve() {
	writerDone := make(chan struct{})
	writerStarted := false
	defer func() {
		s.srv.b.detach(s)
		s.close()
		if writerStarted {
			<-writerDone
		}
	}()
	sc := bufio.NewScanner(s.nc)
	sc.Buffer(make([]byte, 0, 64<<10), s.srv.cfg.MaxLineBytes)
	_ = s.nc.SetReadDeadline(time.Now().Add(s.srv.cfg.LoginTimeout))
	if !sc.Scan() {
		return
	}
	replyCmd, queues, ok := s.login(sc.Bytes())
	if !ok {
		return
	}
	// Attach before answering: once the client reads the reply, the server
	// must already count it as a consumer. The pushes this assigns wait in
	// s.out until the writer starts, after the reply.
	s.activate()
	for _, q := range queues {
		s.srv.b.attach(s, q)
	}
	if !s.writeDirect(loginReply(replyCmd, true, "ok")) {
		return
	}
	_ = s.nc.SetReadDeadline(time.Time{})
	writerStarted = true
	go func() { defer close(writerDone); s.writeLoop() }()
	s.signal()
	for sc.Scan() {
		s.handle(sc.Bytes())
	}
}

// login checks the first line. On failure it answers result false (the
// caller then closes); on success it returns the reply's cmd and the queues
// to consume, and sets proto and prefetch.
func (s *session) login(line []byte) (replyCmd string, queues []*queue, ok bool) {
	var m clientMsg
	if err := json.Unmarshal(line, &m); err != nil {
		s.refuse("login_res", fmt.Sprintf("not JSON: %v", err))
		return "", nil, false
	}
	switch m.Cmd {
	case "enterprise_login_req":
		var d struct {
			ID       string `json:"enterprise_id"`
			Secret   string `json:"enterprise_secret"`
			Prefetch *int   `json:"prefetch_count"`
		}
		if err := json.Unmarshal(m.Data, &d); err != nil {
			s.refuse("enterprise_login_res", "data must be {enterprise_id, enterprise_secret, prefetch_count}")
			return "", nil, false
		}
		e, ok := s.srv.enterprises[d.ID]
		if !ok || e.Secret != d.Secret {
			s.refuse("enterprise_login_res", "enterprise_id or enterprise_secret wrong, or IP not in whitelist")
			return "", nil, false
		}
		prefetch, err := prefetchOf(d.Prefetch)
		if err != nil {
			s.refuse("enterprise_login_res", err.Error())
			return "", nil, false
		}
		s.proto, s.prefetch = protoV1, prefetch
		return "enterprise_login_res", []*queue{s.srv.b.lookup(v1QueueName(d.ID))}, true
	case "login_req":
		var entries []v2Entry
		if err := json.Unmarshal(m.Data, &entries); err != nil || len(entries) == 0 {
			s.refuse("login_res", "data must be a non-empty list of {product_key, auth_id, auth_secret, subkey, events}")
			return "", nil, false
		}
		prefetch, err := prefetchOf(m.PrefetchCount)
		if err != nil {
			s.refuse("login_res", err.Error())
			return "", nil, false
		}
		qs, err := s.srv.resolveV2(entries)
		if err != nil {
			s.refuse("login_res", err.Error())
			return "", nil, false
		}
		s.proto, s.prefetch = protoV2, prefetch
		return "login_res", qs, true
	default:
		s.refuse("login_res", fmt.Sprintf("expected login_req or enterprise_login_req, got %q", m.Cmd))
		return "", nil, false
	}
}

func prefetchOf(p *int) (int, error) {
	if p == nil {
		return 50, nil
	}
	if *p < 1 || *p > snoti.MaxPrefetch {
		return 0, fmt.Errorf("prefetch_count %d: must be 1..%d", *p, snoti.MaxPrefetch)
	}
	return *p, nil
}

func (s *session) refuse(cmd, msg string) {
	s.srv.b.note(func(sum *Summary) { sum.LoginFailures++ })
	s.log.Info().Str("reason", msg).Msg("login refused")
	s.writeDirect(loginReply(cmd, false, msg))
}

// activate makes the session a logged-in consumer.
func (s *session) activate() {
	b := s.srv.b
	b.mu.Lock()
	s.loggedIn = true
	b.ledger.sum.Logins++
	b.ledger.sum.Connected++
	b.mu.Unlock()
	s.log.Debug().Str("protocol", s.proto).Int("prefetch", s.prefetch).Msg("logged in")
}

// writeDirect writes before the writer runs (login replies only).
func (s *session) writeDirect(line []byte) bool {
	_ = s.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := s.nc.Write(line)
	return err == nil
}

func loginReply(cmd string, ok bool, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"cmd": cmd, "data": map[string]any{"result": ok, "msg": msg}})
	return append(b, '\n')
}

// handle executes one command after login.
func (s *session) handle(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if id, msgID, ok := parseAck(line, s.proto); ok {
		if !s.srv.b.ack(s, id, msgID) {
			s.invalid(fmt.Sprintf("unknown delivery_id %.64s on this connection", id))
		}
		return
	}
	var m clientMsg
	if err := json.Unmarshal(line, &m); err != nil {
		s.invalid(fmt.Sprintf("not JSON: %.100s", line))
		return
	}
	switch {
	case (m.Cmd == "event_ack" && s.proto == protoV2) || (m.Cmd == "enterprise_event_ack" && s.proto == protoV1):
		if !s.srv.b.ack(s, m.DeliveryID, m.MsgID) {
			s.invalid(fmt.Sprintf("unknown delivery_id %.64s on this connection", m.DeliveryID))
		}
	case (m.Cmd == "ping" && s.proto == protoV2) || (m.Cmd == "enterprise_ping" && s.proto == protoV1):
		s.srv.b.note(func(sum *Summary) { sum.Pings++ })
		if !s.srv.Faults().NoPong {
			pong := `{"cmd":"pong"}` + "\n"
			if s.proto == protoV1 {
				pong = `{"cmd":"enterprise_pong"}` + "\n"
			}
			s.send([]byte(pong))
		}
	case m.Cmd == "subscribe_req" && s.proto == protoV2:
		s.subscribe(m.Data)
	case m.Cmd == "unsubscribe_req" && s.proto == protoV2:
		s.unsubscribe(m.Data)
	case m.Cmd == "remote_control_v2_req" && s.proto == protoV2:
		s.remoteControl(m)
	default:
		s.invalid(fmt.Sprintf("unknown cmd %q for protocol %s", m.Cmd, s.proto))
	}
}

func (s *session) invalid(msg string) {
	s.srv.b.note(func(sum *Summary) { sum.ClientInvalid++ })
	reply := map[string]any{"cmd": "invalid_msg", "msg": msg}
	if s.proto == protoV2 {
		reply["error_code"] = 4000
	}
	b, _ := json.Marshal(reply)
	s.send(append(b, '\n'))
}

func (s *session) subscribe(data json.RawMessage) {
	var entries []v2Entry
	err := json.Unmarshal(data, &entries)
	var qs []*queue
	if err == nil {
		qs, err = s.srv.resolveV2(entries)
	}
	if err != nil {
		s.send(resultReply("subscribe_res", false, err.Error()))
		return
	}
	s.send(resultReply("subscribe_res", true, "ok"))
	for _, q := range qs {
		s.srv.b.attach(s, q)
	}
}

func (s *session) unsubscribe(data json.RawMessage) {
	var entries []v2Entry
	if err := json.Unmarshal(data, &entries); err != nil {
		s.send(resultReply("unsubscribe_res", false, "data must be a list of {product_key, subkey, events}"))
		return
	}
	b := s.srv.b
	b.mu.Lock()
	for _, e := range entries {
		q, ok := b.queues[v2QueueName(e.ProductKey, e.Subkey)]
		if !ok {
			continue
		}
		if q.events == nil {
			q.events = allEventTypes()
		}
		for _, name := range e.Events {
			if t, ok := snoti.EventTypeOf(name); ok {
				delete(q.events, t)
			}
		}
		if len(q.events) == 0 {
			q.removeConsumer(s)
		}
	}
	b.mu.Unlock()
	s.send(resultReply("unsubscribe_res", true, "ok"))
}

func resultReply(cmd string, ok bool, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"cmd": cmd, "data": map[string]any{"result": ok, "msg": msg}})
	return append(b, '\n')
}

func (s *session) remoteControl(m clientMsg) {
	var cmds []struct {
		Cmd  string `json:"cmd"`
		Data struct {
			DID string          `json:"did"`
			Raw json.RawMessage `json:"raw"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Data, &cmds); err != nil {
		s.invalid("remote_control_v2_req data must be a list of {cmd, data}")
		return
	}
	type failed struct {
		DID    string `json:"did"`
		Reason string `json:"reason"`
	}
	type succeed struct {
		DID string `json:"did"`
	}
	res := struct {
		Succeed []succeed `json:"succeed"`
		Failed  []failed  `json:"failed"`
	}{Succeed: []succeed{}, Failed: []failed{}}
	for _, c := range cmds {
		online, known := s.srv.b.isOnline(c.Data.DID)
		switch {
		case c.Cmd != "write_attrs" && c.Cmd != "write":
			res.Failed = append(res.Failed, failed{c.Data.DID, fmt.Sprintf("unknown cmd %q", c.Cmd)})
		case c.Cmd == "write" && !validRaw(c.Data.Raw, m.BinaryCoding):
			res.Failed = append(res.Failed, failed{c.Data.DID, "raw does not match binary_coding"})
		case !known:
			res.Failed = append(res.Failed, failed{c.Data.DID, "device not found"})
		case !online:
			res.Failed = append(res.Failed, failed{c.Data.DID, "device offline"})
		default:
			res.Succeed = append(res.Succeed, succeed{c.Data.DID})
		}
	}
	msgID := m.MsgID
	if len(msgID) == 0 {
		msgID = json.RawMessage("null")
	}
	b, _ := json.Marshal(struct {
		Cmd    string          `json:"cmd"`
		MsgID  json.RawMessage `json:"msg_id"`
		Result any             `json:"result"`
	}{"remote_control_v2_res", msgID, res})
	s.send(append(b, '\n'))
}

func validRaw(raw json.RawMessage, coding string) bool {
	if len(raw) > 0 && raw[0] == '[' {
		var arr []int // a JSON array of byte values
		if json.Unmarshal(raw, &arr) != nil {
			return false
		}
		for _, v := range arr {
			if v < 0 || v > 255 {
				return false
			}
		}
		return true
	}
	var str string
	if json.Unmarshal(raw, &str) != nil {
		return false
	}
	var err error
	if coding == "hex" {
		_, err = hex.DecodeString(str)
	} else {
		_, err = base64.StdEncoding.DecodeString(str)
	}
	return err == nil
}

func allEventTypes() map[string]bool {
	m := map[string]bool{}
	for _, name := range snoti.Subscriptions() {
		t, _ := snoti.EventTypeOf(name)
		m[t] = true
	}
	return m
}
