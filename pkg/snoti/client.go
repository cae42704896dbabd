package snoti

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Client is one SNoti connection that reconnects forever. Build it with
// New, run it with Run; Ready, Stats, Subscribe, Unsubscribe and
// RemoteControl are safe to call from any goroutine while it runs.
type Client struct {
	cfg      Config
	log      zerolog.Logger
	tls      *tls.Config
	counters *counters

	running atomic.Bool
	cur     atomic.Pointer[conn] // the logged-in connection, nil when none

	ctrlMu   sync.Mutex // serialises subscribe/unsubscribe: replies carry no id
	prodMu   sync.Mutex
	products []Product // v2 subscriptions used at the next login
	msgID    atomic.Uint64

	deferDecode bool // WithDeferredDecode
}

// Option customises a Client.
type Option func(*Client)

// WithMetrics makes the client count into m (see NewMetrics). Without it
// the client counts only into Stats.
func WithMetrics(m *Metrics) Option {
	return func(c *Client) { c.counters.m = m }
}

// WithDeferredDecode makes the client deliver pushes with only their line
// and ids (Raw, DeliveryID, MsgID): their Event (event type, device,
// created_at, typed data) stays nil until the handler's side calls
// Push.Decode, where it suits it (the ingest does so on its writer's
// workers, just before building each record). The reading goroutine then
// only validates and splits lines, and pushes waiting for their ACK (up to
// the prefetch) hold little more than their line.
func WithDeferredDecode() Option {
	return func(c *Client) { c.deferDecode = true }
}

// New validates cfg, applies defaults, loads the v2 products file when
// cfg.Products is empty and the CA file when set. It does not connect.
func New(cfg Config, log zerolog.Logger, opts ...Option) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid snoti configuration: %w", err)
	}
	if cfg.Protocol == ProtocolV2 && len(cfg.Products) == 0 {
		ps, err := LoadProducts(cfg.ProductsFile)
		if err != nil {
			return nil, err
		}
		cfg.Products = ps
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	m, _ := NewMetrics(nil)
	c := &Client{
		cfg:      cfg,
		log:      log.With().Str("component", "snoti").Str("addr", cfg.Addr).Str("protocol", cfg.Protocol).Logger(),
		tls:      tlsCfg,
		counters: &counters{m: m},
		products: slices.Clone(cfg.Products),
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(cfg.Addr)
	t := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         host,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // explicit opt-in, warned at every connect
	}
	if cfg.ServerName != "" {
		t.ServerName = cfg.ServerName
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fielderr.Wrap("CAFile", cfg.CAFile, fmt.Errorf("reading: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fielderr.Bad("CAFile", cfg.CAFile, "no PEM certificate found: give a PEM bundle")
		}
		t.RootCAs = pool
	}
	return t, nil
}

// Ready reports whether the client is logged in right now.
func (c *Client) Ready() bool { return c.cur.Load() != nil }

// Stats returns the client's counters.
func (c *Client) Stats() Stats { return c.counters.snapshot() }

// Run connects, logs in and reads until ctx is cancelled, reconnecting after
// every failure with capped exponential backoff and jitter. Each failed
// attempt is one log line (error for a refused login or a failed connect,
// warning for a lost connection) naming the next delay. Pushes and invalid
// lines go to h (see Handler). Run returns nil once ctx is cancelled, after
// the connection is closed; pending ACKs are then dropped. It may be called
// only once at a time.
func (c *Client) Run(ctx context.Context, h Handler) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("snoti: Run is already running")
	}
	defer c.running.Store(false)
	bo := reconnectBackOff(c.cfg.BackoffMin, c.cfg.BackoffMax)
	attempt := 0
	var loggedIn bool
	// The operation fails always (a session ends only by breaking); Retry
	// waits out the delay, and returns at once when ctx is cancelled.
	_, _ = backoff.Retry(ctx, func() (struct{}, error) {
		if attempt > 0 {
			c.counters.reconnect()
		}
		attempt++
		var err error
		loggedIn, err = c.session(ctx, h)
		if loggedIn {
			bo.Reset()
			attempt = 1
		}
		if err == nil {
			err = errors.New("snoti: connection closed")
		}
		return struct{}{}, err
	}, backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, delay time.Duration) {
		var le *LoginError
		switch {
		case errors.As(err, &le):
			c.counters.loginFailure()
			c.log.Error().Str("server_msg", le.Msg).Int("attempt", attempt).Dur("retry_in", delay).
				Msg("snoti login refused: check the credentials and that this host's egress IP is on the whitelist in the Gizwits console")
		case loggedIn:
			c.log.Warn().Err(err).Str("reason", disconnectReason(err)).Dur("retry_in", delay).Msg("snoti connection lost")
		default:
			c.log.Error().Err(err).Int("attempt", attempt).Dur("retry_in", delay).Msg("snoti connect failed")
		}
	}))
	return nil
}

// session runs one connection: dial, login, then read until it breaks.
// loggedIn reports whether the login succeeded.
func (c *Client) session(ctx context.Context, h Handler) (loggedIn bool, err error) {
	nc, lr, err := c.dialAndLogin(ctx)
	if err != nil {
		return false, err
	}
	cn := newConn(nc, &c.cfg, c.log, c.counters, c.loginLine)
	c.cur.Store(cn)
	c.counters.login()
	c.counters.m.connected.Inc()
	c.log.Info().Msg("snoti logged in")

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); cn.writeLoop() }()
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			cn.close(ctx.Err())
		case <-cn.done:
		}
	}()
	readErr := c.readLoop(cn, lr, h)
	cn.close(readErr)
	c.cur.CompareAndSwap(cn, nil)
	c.counters.m.connected.Dec()
	wg.Wait()
	err = cn.err()
	if ctx.Err() == nil {
		c.counters.disconnect(disconnectReason(err))
	}
	return true, err
}

// Reasons a logged-in connection ended, the label of
// snoti_disconnects_total.
const (
	DisconnectNoHeartbeat    = "no_heartbeat"    // the server wrote "No Heartbeat!"
	DisconnectPongTimeout    = "pong_timeout"    // a ping went unanswered
	DisconnectReloginRefused = "relogin_refused" // a login again on the connection was refused
	DisconnectError          = "error"           // read or write failed, the server closed
)

func disconnectReason(err error) string {
	var le *LoginError
	switch {
	case errors.Is(err, errNoHeartbeat):
		return DisconnectNoHeartbeat
	case errors.Is(err, errPongTimeout):
		return DisconnectPongTimeout
	case errors.As(err, &le):
		return DisconnectReloginRefused
	default:
		return DisconnectError
	}
}

// readLoop reads lines until the connection fails.
func (c *Client) readLoop(cn *conn, lr *lineReader, h Handler) error {
	for {
		line, err := lr.next()
		var tooLong *errLineTooLong
		if errors.As(err, &tooLong) {
			c.counters.invalidLine(InvalidTooLong)
			h.HandleInvalid(tooLongInvalid(tooLong, cn))
			continue
		}
		if err != nil {
			return fmt.Errorf("reading from server: %w", err)
		}
		if bytes.Equal(bytes.TrimSpace(line), noHeartbeatLine) {
			return errNoHeartbeat
		}
		w, p, inv, label := splitLine(line, c.deferDecode)
		switch {
		case p != nil:
			p.conn, p.gen = cn, cn.gen.Load()
			c.counters.push(label)
			h.HandlePush(p)
		case inv != nil:
			c.counters.invalidLine(inv.Kind)
			c.log.Warn().Str("kind", inv.Kind).Str("reason", inv.Reason).Int("bytes", len(inv.Line)).Msg("snoti invalid line")
			h.HandleInvalid(*inv)
		default:
			cn.dispatch(w)
		}
	}
}

// dialAndLogin opens the TLS connection and logs in, all within
// cfg.LoginTimeout.
func (c *Client) dialAndLogin(ctx context.Context) (net.Conn, *lineReader, error) {
	if c.cfg.InsecureSkipVerify {
		c.log.Warn().Msg("SNOTI_INSECURE_SKIP_VERIFY=true: the server certificate is NOT verified, anyone on the path can read and forge events")
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.LoginTimeout)
	defer cancel()
	d := tls.Dialer{Config: c.tls}
	nc, err := d.DialContext(dctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dialing %s: %w", c.cfg.Addr, err)
	}
	deadline, _ := dctx.Deadline()
	lr := newLineReader(nc, c.cfg.MaxLineBytes)
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() }) // cancel a pending login reply
	defer stop()
	if err := c.login(nc, lr, deadline); err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	return nc, lr, nil
}

func (c *Client) login(nc net.Conn, lr *lineReader, deadline time.Time) error {
	line, err := c.loginLine()
	if err != nil {
		return err
	}
	if err := nc.SetDeadline(deadline); err != nil {
		return fmt.Errorf("setting login deadline: %w", err)
	}
	if _, err := nc.Write(line); err != nil {
		return fmt.Errorf("writing login: %w", err)
	}
	reply, err := lr.next()
	if err != nil {
		return fmt.Errorf("reading login reply: %w", err)
	}
	var res struct {
		Cmd  string `json:"cmd"`
		Data struct {
			Result bool   `json:"result"`
			Msg    string `json:"msg"`
		} `json:"data"`
	}
	if err := json.Unmarshal(reply, &res); err != nil {
		return fmt.Errorf("decoding login reply %.200q: %w", reply, err)
	}
	if res.Cmd != cmdLoginResV1 && res.Cmd != cmdLoginResV2 {
		return fmt.Errorf("expected a login reply, got %.200q", reply)
	}
	if !res.Data.Result {
		return &LoginError{Msg: res.Data.Msg}
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("clearing login deadline: %w", err)
	}
	return nil
}

func (c *Client) loginLine() ([]byte, error) {
	var msg any
	if c.cfg.Protocol == ProtocolV1 {
		msg = struct {
			Cmd  string `json:"cmd"`
			Data any    `json:"data"`
		}{"enterprise_login_req", struct {
			ID       string `json:"enterprise_id"`
			Secret   string `json:"enterprise_secret"`
			Prefetch int    `json:"prefetch_count"`
		}{c.cfg.EnterpriseID, c.cfg.EnterpriseSecret, c.cfg.Prefetch}}
	} else {
		c.prodMu.Lock()
		products := slices.Clone(c.products)
		c.prodMu.Unlock()
		msg = struct {
			Cmd      string    `json:"cmd"`
			Prefetch int       `json:"prefetch_count"`
			Data     []Product `json:"data"`
		}{"login_req", c.cfg.Prefetch, products}
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encoding login: %w", err)
	}
	return append(b, '\n'), nil
}
