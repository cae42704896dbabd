package snotisim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// invalid_msg error codes (v2; v1's invalid_msg has none).
const (
	codeInvalid         = 4000 // the server did not understand the line
	codeNotLoggedIn     = 4001 // a command before any login on the connection
	codeLoginExpired    = 4003 // a command after the server forgot the login (ForgetLogins)
	codeAlreadyLoggedIn = 4009 // a second login on a logged-in connection
)

// noHeartbeatLine is what the real server writes before it drops a
// connection silent for 5 minutes: not JSON.
const noHeartbeatLine = "No Heartbeat!\n"

// clientMsg holds every top-level field a client command may carry.
type clientMsg struct {
	Cmd           string          `json:"cmd"`
	DeliveryID    json.RawMessage `json:"delivery_id"`
	MsgID         json.RawMessage `json:"msg_id"`
	PrefetchCount *int            `json:"prefetch_count"`
	Data          json.RawMessage `json:"data"`
}

// v2Entry is one product of a v2 login, subscribe or unsubscribe.
type v2Entry struct {
	ProductKey string   `json:"product_key"`
	AuthID     string   `json:"auth_id"`
	AuthSecret string   `json:"auth_secret"`
	Subkey     string   `json:"subkey"`
	Events     []string `json:"events"`
}

// serve runs the connection: lines until a login within the login timeout
// (other commands are answered with invalid_msg 4001, the connection
// kept), then commands until the client, a fault or the idle rule closes
// it.
func (s *session) serve() {
	writerDone := make(chan struct{})
	defer func() {
		s.srv.b.detach(s)
		s.close()
		if s.writerStarted {
			<-writerDone
		}
	}()
	sc := bufio.NewScanner(s.nc)
	sc.Buffer(make([]byte, 0, 64<<10), s.srv.cfg.MaxLineBytes)
	_ = s.nc.SetReadDeadline(time.Now().Add(s.srv.cfg.LoginTimeout))
	for !s.writerStarted {
		if !sc.Scan() {
			return
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m clientMsg
		if err := json.Unmarshal(line, &m); err != nil || !isLogin(m.Cmd) {
			s.notLoggedIn(protoOfCmd(m.Cmd))
			continue
		}
		if !s.login(m) {
			return
		}
		s.writerStarted = true
		go func() { defer close(writerDone); s.writeLoop() }()
		s.signal()
	}
	for {
		_ = s.nc.SetReadDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
		if !sc.Scan() {
			var ne net.Error
			if errors.As(sc.Err(), &ne) && ne.Timeout() {
				s.srv.b.note(func(sum *Summary) { sum.NoHeartbeats++ })
				s.log.Debug().Dur("idle", s.srv.cfg.IdleTimeout).Msg("no heartbeat: closing")
				s.sendThenClose([]byte(noHeartbeatLine))
				<-s.done
			}
			return
		}
		s.handle(sc.Bytes())
	}
}

func isLogin(cmd string) bool { return cmd == "login_req" || cmd == "enterprise_login_req" }

// protoOfCmd guesses the protocol of a command sent before login.
func protoOfCmd(cmd string) string {
	if strings.HasPrefix(cmd, "enterprise_") {
		return protoV1
	}
	return protoV2
}

// login handles a login command, the first on the connection or one
// after ForgetLogins. A refused login is answered result false and ends
// the connection (false); an accepted one attaches the queues.
func (s *session) login(m clientMsg) bool {
	replyCmd, proto, prefetch, queues, products, err := s.checkLogin(m)
	if err != nil {
		s.srv.b.note(func(sum *Summary) { sum.LoginFailures++ })
		s.log.Info().Err(err).Msg("login refused")
		s.reply(loginReply(replyCmd, false, err.Error()))
		return false
	}
	// Count the consumer before the client can read the reply. Its pushes
	// wait in s.out behind the reply: the writer starts (or is woken) after.
	b := s.srv.b
	b.mu.Lock()
	s.proto, s.prefetch = proto, prefetch
	s.loggedIn, s.everIn = true, true
	if s.products == nil {
		s.products = map[string]bool{}
	}
	for _, pk := range products {
		s.products[pk] = true
	}
	b.ledger.sum.Logins++
	b.ledger.sum.Connected++
	b.mu.Unlock()
	s.log.Debug().Str("protocol", s.proto).Int("prefetch", s.prefetch).Int("queues", len(queues)).Msg("logged in")
	s.reply(loginReply(replyCmd, true, "ok"))
	for _, q := range queues {
		b.attach(s, q)
	}
	s.srv.firstLoginOnce.Do(func() { close(s.srv.firstLogin) })
	return true
}

// checkLogin validates a login.
func (s *session) checkLogin(m clientMsg) (replyCmd, proto string, prefetch int, queues []*queue, products []string, err error) {
	replyCmd, queues, products, prefetch, err = s.checkLoginOf(m)
	proto = protoV2
	if m.Cmd == "enterprise_login_req" {
		proto = protoV1
	}
	return replyCmd, proto, prefetch, queues, products, err
}

func (s *session) checkLoginOf(m clientMsg) (replyCmd string, queues []*queue, products []string, prefetch int, err error) {
	prefetch, err = prefetchOf(m.PrefetchCount)
	if m.Cmd == "enterprise_login_req" {
		var d struct {
			ID       string `json:"enterprise_id"`
			Secret   string `json:"enterprise_secret"`
			Prefetch *int   `json:"prefetch_count"`
		}
		if json.Unmarshal(m.Data, &d) != nil {
			return "enterprise_login_res", nil, nil, 0, errors.New("data must be {enterprise_id, enterprise_secret, prefetch_count}")
		}
		e, ok := s.srv.enterprises[d.ID]
		if !ok || e.Secret != d.Secret {
			return "enterprise_login_res", nil, nil, 0, errors.New("enterprise_id or enterprise_secret wrong, or IP not in whitelist")
		}
		if prefetch, err = prefetchOf(d.Prefetch); err != nil {
			return "enterprise_login_res", nil, nil, 0, err
		}
		return "enterprise_login_res", []*queue{s.srv.b.lookup(v1QueueName(d.ID))}, nil, prefetch, nil
	}
	if err != nil {
		return "login_res", nil, nil, 0, err
	}
	// data may be an empty list: noti-client logs in with "data":[] and
	// subscribes each product afterwards.
	var entries []v2Entry
	if len(m.Data) > 0 && string(m.Data) != "null" {
		if json.Unmarshal(m.Data, &entries) != nil {
			return "login_res", nil, nil, 0, errors.New("data must be a list of {product_key, auth_id, auth_secret, subkey, events}")
		}
	}
	qs, unknown, err := s.srv.resolveV2(entries)
	if err != nil {
		return "login_res", nil, nil, 0, err
	}
	s.warnUnknown(unknown)
	for _, e := range entries {
		products = append(products, e.ProductKey)
	}
	return "login_res", qs, products, prefetch, nil
}

func (s *session) warnUnknown(names []string) {
	if len(names) == 0 {
		return
	}
	s.srv.b.note(func(sum *Summary) { sum.UnknownEvents += uint64(len(names)) })
	s.log.Warn().Strs("events", names).Msg("unknown event names accepted and ignored")
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

// reply writes a line: directly while the writer does not run yet, else
// through it.
func (s *session) reply(line []byte) {
	if !s.writerStarted {
		_ = s.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, _ = s.nc.Write(line)
		return
	}
	s.send(line)
}

func loginReply(cmd string, ok bool, msg string) []byte {
	b, _ := json.Marshal(struct {
		Cmd  string `json:"cmd"`
		Data any    `json:"data"`
	}{cmd, struct {
		Result bool   `json:"result"`
		Msg    string `json:"msg"`
	}{ok, msg}})
	return append(b, '\n')
}

func (s *session) isLoggedIn() bool {
	s.srv.b.mu.Lock()
	defer s.srv.b.mu.Unlock()
	return s.loggedIn
}

// handle executes one line after the first login.
func (s *session) handle(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if id, msgID, ok := parseAck(line, s.proto); ok {
		s.ack(id, msgID)
		return
	}
	var m clientMsg
	if err := json.Unmarshal(line, &m); err != nil {
		s.invalid(codeInvalid, fmt.Sprintf("not JSON: %.100s", line))
		return
	}
	if isLogin(m.Cmd) {
		if s.isLoggedIn() {
			s.srv.b.note(func(sum *Summary) { sum.SecondLogins++ })
			s.invalid(codeAlreadyLoggedIn, "already logged in")
			return
		}
		if !s.login(m) {
			s.sendThenClose(nil)
		}
		return
	}
	if !s.isLoggedIn() {
		s.notLoggedIn(s.proto)
		return
	}
	v1 := s.proto == protoV1
	switch {
	case (m.Cmd == "event_ack" && !v1) || (m.Cmd == "enterprise_event_ack" && v1):
		s.ack(m.DeliveryID, m.MsgID)
	case (m.Cmd == "ping" && !v1) || (m.Cmd == "enterprise_ping" && v1):
		s.srv.b.note(func(sum *Summary) { sum.Pings++ })
		if !s.srv.Faults().NoPong {
			pong := `{"cmd":"pong"}` + "\n"
			if v1 {
				pong = `{"cmd":"enterprise_pong"}` + "\n"
			}
			s.send([]byte(pong))
		}
	case m.Cmd == "subscribe_req" && !v1:
		s.subscribe(m.Data)
	case m.Cmd == "unsubscribe_req" && !v1:
		s.unsubscribe(m.Data)
	case m.Cmd == "remote_control_v2_req" && !v1:
		s.remoteControl(m, true)
	case m.Cmd == "remote_control_req" && !v1:
		s.remoteControl(m, false)
	default:
		s.invalid(codeInvalid, fmt.Sprintf("unknown cmd %q for protocol %s", m.Cmd, s.proto))
	}
}

func (s *session) ack(id, msgID []byte) {
	if !s.isLoggedIn() {
		s.notLoggedIn(s.proto)
		return
	}
	switch s.srv.b.ack(s, id, msgID, s.srv.Faults().StallOnStaleAck) {
	case ackRepeated:
		s.invalid(codeInvalid, fmt.Sprintf("delivery_id %.64s is not outstanding on this connection", id))
	case ackStale:
		s.invalid(codeInvalid, fmt.Sprintf("unknown delivery_id %.64s: never delivered on this connection", id))
	case ackStalled:
		s.log.Info().Str("delivery_id", string(id)).Msg("stale ACK: this connection gets no more pushes (stall mode)")
	}
}

// notLoggedIn answers a command sent while the connection is not logged
// in: 4001 before any login, 4003 after a forgotten one. The connection
// stays open for a login.
func (s *session) notLoggedIn(proto string) {
	s.srv.b.note(func(sum *Summary) { sum.NotLoggedIn++ })
	code := codeNotLoggedIn
	if s.everIn {
		code = codeLoginExpired
	}
	s.invalidProto(proto, code, "not logged in: send login_req first")
}

func (s *session) invalid(code int, msg string) { s.invalidProto(s.proto, code, msg) }

func (s *session) invalidProto(proto string, code int, msg string) {
	s.srv.b.note(func(sum *Summary) { sum.ClientInvalid++ })
	s.reply(invalidLine(proto, code, msg))
}

func invalidLine(proto string, code int, msg string) []byte {
	var b []byte
	if proto == protoV1 { // the v1 doc's invalid_msg has no error_code
		b, _ = json.Marshal(struct {
			Cmd string `json:"cmd"`
			Msg string `json:"msg"`
		}{"invalid_msg", msg})
	} else {
		b, _ = json.Marshal(struct {
			Cmd       string `json:"cmd"`
			ErrorCode int    `json:"error_code"`
			Msg       string `json:"msg"`
		}{"invalid_msg", code, msg})
	}
	return append(b, '\n')
}

// sendThenClose queues line (if any) and closes the connection once
// everything before it is written.
func (s *session) sendThenClose(line []byte) {
	b := s.srv.b
	b.mu.Lock()
	if !s.closed {
		s.out = append(s.out, outItem{line: line, close: true})
	}
	b.mu.Unlock()
	s.signal()
}

// resultReply is a subscribe_res or unsubscribe_res in the doc's shape:
// result and msg at the top level, data the request's data.
func resultReply(cmd string, ok bool, msg string, data json.RawMessage) []byte {
	if len(data) == 0 || !json.Valid(data) {
		data = json.RawMessage("[]")
	}
	b, _ := json.Marshal(struct {
		Cmd    string          `json:"cmd"`
		Result bool            `json:"result"`
		Msg    string          `json:"msg"`
		Data   json.RawMessage `json:"data"`
	}{cmd, ok, msg, data})
	return append(b, '\n')
}

func (s *session) subscribe(data json.RawMessage) {
	var entries []v2Entry
	if err := json.Unmarshal(data, &entries); err != nil || len(entries) == 0 {
		s.send(resultReply("subscribe_res", false, "data must be a non-empty list of {product_key, subkey, auth_id, auth_secret, events}", data))
		return
	}
	qs, unknown, err := s.srv.resolveV2(entries)
	if err != nil {
		s.send(resultReply("subscribe_res", false, err.Error(), data))
		return
	}
	s.warnUnknown(unknown)
	b := s.srv.b
	b.mu.Lock()
	for _, e := range entries {
		s.products[e.ProductKey] = true
	}
	b.mu.Unlock()
	s.send(resultReply("subscribe_res", true, "ok", data))
	for _, q := range qs {
		b.attach(s, q)
	}
}

func (s *session) unsubscribe(data json.RawMessage) {
	var entries []v2Entry
	if err := json.Unmarshal(data, &entries); err != nil || len(entries) == 0 {
		s.send(resultReply("unsubscribe_res", false, "data must be a non-empty list of {product_key, subkey, auth_id, events}", data))
		return
	}
	for _, e := range entries {
		p, ok := s.srv.products[e.ProductKey]
		if !ok || e.AuthID != p.AuthID {
			s.send(resultReply("unsubscribe_res", false, fmt.Sprintf("auth_id %q does not belong to product_key %q", e.AuthID, e.ProductKey), data))
			return
		}
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
	s.send(resultReply("unsubscribe_res", true, "ok", data))
}

func allEventTypes() map[string]bool {
	m := map[string]bool{}
	for _, name := range snoti.Subscriptions() {
		t, _ := snoti.EventTypeOf(name)
		m[t] = true
	}
	return m
}
