package snoti

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// errPongTimeout ends a connection whose ping went unanswered.
var errPongTimeout = errors.New("no pong within the pong timeout: connection presumed dead")

// errNoHeartbeat ends a connection on which the server wrote its bare
// "No Heartbeat!" line: it drops connections silent for 5 minutes.
var errNoHeartbeat = errors.New(`server wrote "No Heartbeat!" and drops the connection (nothing was sent to it for too long)`)

// noHeartbeatLine is that line, not JSON.
var noHeartbeatLine = []byte("No Heartbeat!")

// invalid_msg error codes seen in public clients.
const (
	codeNotLoggedIn     = 4001
	codeNotLoggedInToo  = 4003
	codeAlreadyLoggedIn = 4009
	minReloginSpacing   = time.Second // a faster second relogin ends the connection instead
)

// secretValue finds the secrets a subscribe_req carries, so remembered
// lines can be logged.
var secretValue = regexp.MustCompile(`"auth_secret":"(?:[^"\\]|\\.)*"`)

// lastSentLines is how many recently written lines a connection remembers
// to explain an invalid_msg from the server.
const lastSentLines = 3

// outItem is one queued write: an ACK (push set), a control line, or a
// flush barrier (barrier set), closed once everything queued before it is
// written.
type outItem struct {
	push    *Push
	line    []byte
	barrier chan struct{}
}

// conn is one logged-in connection. The reading goroutine (Client.session)
// owns the lineReader; writeLoop owns every write after login. Everything
// queued for writing goes through queue, so ACKs leave in Ack-call order and
// never wait for a read.
type conn struct {
	nc       net.Conn
	proto    string
	log      zerolog.Logger
	counters *counters
	cfg      *Config

	done      chan struct{} // closed when the connection is finished
	closeOnce sync.Once
	closeErr  error // set before done is closed

	mu     sync.Mutex
	queue  []outItem
	closed bool
	wake   chan struct{} // capacity 1: "queue is not empty"

	pong chan struct{} // capacity 1: a pong arrived

	waitMu  sync.Mutex
	waiters map[string]chan *wireMessage

	sentMu   sync.Mutex
	lastSent [][]byte

	// gen is the login generation: it grows when the client logs in again
	// on this connection (invalid_msg 4001/4003). ACKs of pushes delivered
	// under an older generation are dropped, as after a reconnect: the
	// server has requeued those pushes and will deliver them again.
	gen       atomic.Uint64
	loginLine func() ([]byte, error)
	// relogin state, owned by the reading goroutine (dispatch).
	reloginPending bool
	lastRelogin    time.Time
}

func newConn(nc net.Conn, cfg *Config, log zerolog.Logger, ctr *counters, loginLine func() ([]byte, error)) *conn {
	return &conn{
		nc: nc, proto: cfg.Protocol, log: log, counters: ctr, cfg: cfg, loginLine: loginLine,
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		pong:    make(chan struct{}, 1),
		waiters: map[string]chan *wireMessage{},
	}
}

// enqueueAck queues the ACK of p, or counts it dropped if the connection
// is gone. Never blocks on I/O.
func (c *conn) enqueueAck(p *Push) {
	if !c.enqueue(outItem{push: p}) {
		c.counters.dropped(1)
	}
}

// send queues a control line (which must end in "\n").
func (c *conn) send(line []byte) error {
	if !c.enqueue(outItem{line: line}) {
		return ErrNotConnected
	}
	return nil
}

// enqueue queues it for the writer and wakes it; false when the connection
// is already closed (nothing is queued then).
func (c *conn) enqueue(it outItem) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, it)
	c.mu.Unlock()
	c.signal()
	return true
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close ends the connection once, recording the first cause, dropping the
// queued ACKs and unblocking the reader, the writer and every waiter.
func (c *conn) close(cause error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		dropped := 0
		for _, it := range c.queue {
			if it.push != nil {
				dropped++
			}
		}
		c.queue = nil
		c.mu.Unlock()
		c.counters.dropped(dropped)
		c.closeErr = cause
		close(c.done)
		_ = c.nc.Close()
	})
}

// err is the cause the connection ended with; valid once done is closed.
func (c *conn) err() error {
	<-c.done
	return c.closeErr
}

// writeLoop writes queued lines in batches and pings after cfg.Heartbeat
// without writing. It returns when the connection is closed; a failed
// write or an unanswered ping closes it.
func (c *conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	idle := time.NewTimer(c.cfg.Heartbeat)
	defer idle.Stop()
	var pongTimer *time.Timer
	var pongDeadline <-chan time.Time
	defer func() {
		if pongTimer != nil {
			pongTimer.Stop()
		}
	}()
	var batch []outItem
	for {
		select {
		case <-c.done:
			return
		case <-c.pong:
			if pongTimer != nil {
				pongTimer.Stop()
			}
			pongDeadline = nil
		case <-pongDeadline:
			c.close(errPongTimeout)
			return
		case <-idle.C:
			if err := c.flush(bw, nil, c.pingLine()); err != nil {
				c.close(fmt.Errorf("writing ping: %w", err))
				return
			}
			if pongDeadline == nil {
				pongTimer = time.NewTimer(c.cfg.PongTimeout)
				pongDeadline = pongTimer.C
			}
			idle.Reset(c.cfg.Heartbeat)
		case <-c.wake:
			c.mu.Lock()
			batch, c.queue = c.queue, batch[:0]
			c.mu.Unlock()
			if err := c.flush(bw, batch, nil); err != nil {
				c.close(fmt.Errorf("writing to server: %w", err))
				return
			}
			for _, it := range batch {
				if it.barrier != nil {
					close(it.barrier)
				}
			}
			clear(batch) // let the pushes go
			idle.Reset(c.cfg.Heartbeat)
		}
	}
}

// flush writes a batch (and an extra line, if any) and counts its ACKs.
// ACKs of a batch whose write fails are counted dropped.
func (c *conn) flush(bw *bufio.Writer, batch []outItem, extra []byte) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout)); err != nil {
		return err
	}
	acks, stale := 0, 0
	gen := c.gen.Load()
	var scratch []byte
	for _, it := range batch {
		switch {
		case it.push != nil && it.push.gen != gen:
			stale++ // delivered before a relogin: the server redelivers it
		case it.push != nil:
			scratch = it.push.appendAck(scratch[:0], c.proto)
			acks++
			_, _ = bw.Write(scratch)
		case it.line != nil:
			_, _ = bw.Write(it.line)
		}
	}
	if extra != nil {
		_, _ = bw.Write(extra)
	}
	c.counters.dropped(stale)
	if err := bw.Flush(); err != nil {
		c.counters.dropped(acks)
		return err
	}
	c.counters.acked(acks)
	c.rememberSent(batch, extra, scratch)
	return nil
}

// rememberSent keeps copies of the last lines written, bounded in size, so
// an invalid_msg from the server can be logged with what was sent.
func (c *conn) rememberSent(batch []outItem, extra, lastAck []byte) {
	var lines [][]byte
	if extra != nil {
		lines = append(lines, extra)
	}
	ackSeen := false
	for i := len(batch) - 1; i >= 0 && len(lines) < lastSentLines; i-- {
		switch {
		case batch[i].line != nil:
			lines = append(lines, secretValue.ReplaceAll(batch[i].line, []byte(`"auth_secret":"***"`)))
		case batch[i].push != nil && !ackSeen:
			ackSeen = true
			lines = append(lines, lastAck) // only the last ACK of the batch is at hand
		}
	}
	c.sentMu.Lock()
	defer c.sentMu.Unlock()
	for i := len(lines) - 1; i >= 0; i-- {
		l := bytes.TrimSuffix(lines[i], []byte("\n"))
		c.lastSent = append(c.lastSent, bytes.Clone(l[:min(len(l), 512)]))
	}
	if n := len(c.lastSent); n > lastSentLines {
		c.lastSent = append(c.lastSent[:0], c.lastSent[n-lastSentLines:]...)
	}
}

func (c *conn) recentlySent() []string {
	c.sentMu.Lock()
	defer c.sentMu.Unlock()
	out := make([]string, len(c.lastSent))
	for i, l := range c.lastSent {
		out[i] = string(l)
	}
	return out
}

func (c *conn) pingLine() []byte {
	if c.proto == ProtocolV1 {
		return []byte(`{"cmd":"enterprise_ping"}` + "\n")
	}
	return []byte(`{"cmd":"ping"}` + "\n")
}

// register installs a waiter for a reply keyed by key (the reply's cmd, or
// the remote-control msg_id). The returned cancel removes it.
func (c *conn) register(key string) (<-chan *wireMessage, func()) {
	ch := make(chan *wireMessage, 1)
	c.waitMu.Lock()
	c.waiters[key] = ch
	c.waitMu.Unlock()
	return ch, func() {
		c.waitMu.Lock()
		if c.waiters[key] == ch {
			delete(c.waiters, key)
		}
		c.waitMu.Unlock()
	}
}

// deliver hands a reply to its waiter; false if nobody waits for it.
func (c *conn) deliver(key string, w *wireMessage) bool {
	c.waitMu.Lock()
	ch, ok := c.waiters[key]
	delete(c.waiters, key)
	c.waitMu.Unlock()
	if ok {
		ch <- w
	}
	return ok
}

// dispatch handles a control message read after login.
func (c *conn) dispatch(w *wireMessage) {
	switch w.Cmd {
	case cmdPongV1, cmdPongV2:
		select {
		case c.pong <- struct{}{}:
		default:
		}
	case cmdSubscribeRes, cmdUnsubscribeRes:
		if !c.deliver(w.Cmd, w) {
			c.log.Warn().Str("cmd", w.Cmd).Msg("snoti reply nobody waits for")
		}
	case cmdRemoteRes, cmdRemoteResOld:
		if !c.deliver(remoteKey(w.MsgID), w) {
			c.log.Warn().Str("cmd", w.Cmd).RawJSON("msg_id", orNull(w.MsgID)).Msg("snoti remote control reply nobody waits for")
		}
	case cmdInvalidMsg:
		c.invalidMsg(w)
	case cmdLoginResV1, cmdLoginResV2:
		c.reloginReply(w)
	default:
		c.log.Warn().Str("cmd", w.Cmd).Msg("snoti message of unknown cmd ignored")
	}
}

// invalidMsg handles the server's invalid_msg: 4001/4003 (not logged in)
// log in again on this connection, 4009 (already logged in) needs
// nothing, any other code is logged with what was sent last.
func (c *conn) invalidMsg(w *wireMessage) {
	code, _ := strconv.Atoi(string(w.ErrorCode))
	switch code {
	case codeNotLoggedIn, codeNotLoggedInToo:
		if c.reloginPending {
			return // the login is on its way
		}
		if !c.lastRelogin.IsZero() && time.Since(c.lastRelogin) < minReloginSpacing {
			c.close(fmt.Errorf("server said not logged in (error_code %d) again right after a login on this connection: reconnecting", code))
			return
		}
		line, err := c.loginLine()
		if err != nil {
			c.close(err)
			return
		}
		c.gen.Add(1) // pending ACKs belong to the lost login
		c.reloginPending, c.lastRelogin = true, time.Now()
		c.counters.relogin()
		c.log.Warn().Int("error_code", code).Str("server_msg", w.Msg).Msg("snoti server says this connection is not logged in: logging in again on it")
		if err := c.send(line); err != nil {
			c.close(err)
		}
	case codeAlreadyLoggedIn:
		// Nothing to do; if it answers our relogin, the login stands.
		c.reloginPending = false
		c.log.Debug().Int("error_code", code).Str("server_msg", w.Msg).Msg("snoti server says already logged in: nothing to do")
	default:
		c.log.Warn().Str("server_msg", w.Msg).RawJSON("error_code", orNull(w.ErrorCode)).
			Strs("recently_sent", c.recentlySent()).Msg("snoti server did not understand a message we sent")
	}
}

// reloginReply handles the login reply of a relogin: refused ends the
// connection with a *LoginError (counted and logged by Run, which then
// reconnects with backoff).
func (c *conn) reloginReply(w *wireMessage) {
	if !c.reloginPending {
		c.log.Warn().Str("cmd", w.Cmd).Msg("snoti login reply nobody waits for")
		return
	}
	c.reloginPending = false
	if ok, msg := replyResult(w); !ok {
		c.close(&LoginError{Msg: msg})
		return
	}
	c.log.Info().Msg("snoti logged in again on the same connection")
}

func orNull(raw []byte) []byte {
	if len(raw) == 0 {
		return []byte("null")
	}
	return raw
}
