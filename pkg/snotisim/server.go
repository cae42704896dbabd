package snotisim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
)

var subkeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// Server is a running SNoti simulator. New listens; Start serves; Close
// stops. Publish, SetFaults, DropConnections and the ledger accessors are
// safe from any goroutine.
type Server struct {
	cfg     Config
	log     zerolog.Logger
	ln      net.Listener
	certPEM []byte
	b       *broker
	faults  atomic.Pointer[Faults]
	fleet   *fleet

	products    map[string]*productState
	enterprises map[string]Enterprise

	seq         atomic.Uint64 // sim_seq of the last published event
	nextSession atomic.Uint64

	// firstLogin is closed when a client has logged in for the first time
	// (Fleet.StartOnLogin waits on it).
	firstLogin     chan struct{}
	firstLoginOnce sync.Once

	mu       sync.Mutex
	sessions map[*session]struct{}
	started  bool
	quit     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

type productState struct {
	Product
	def *definition
}

// New validates cfg, prepares TLS and the queues, and listens on cfg.Addr.
// It serves nothing until Start.
func New(cfg Config, log zerolog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid simulator configuration: %w", err)
	}
	cert, certPEM, err := serverCert(cfg.CertFile, cfg.KeyFile, cfg.Hosts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:         cfg,
		log:         log.With().Str("component", "snoti-sim").Logger(),
		certPEM:     certPEM,
		b:           newBroker(cfg.LedgerSize, cfg.MaxBacklog, cfg.MsgIDShare),
		products:    map[string]*productState{},
		enterprises: map[string]Enterprise{},
		sessions:    map[*session]struct{}{},
		quit:        make(chan struct{}),
		firstLogin:  make(chan struct{}),
	}
	f := cfg.Faults
	s.faults.Store(&f)
	for _, p := range cfg.Products {
		def, err := parseDefinition(p.Definition)
		if err != nil {
			return nil, fmt.Errorf("product %s: %w", p.ProductKey, err)
		}
		s.products[p.ProductKey] = &productState{Product: p, def: def}
		for _, sk := range p.Subkeys {
			s.b.declare(v2QueueName(p.ProductKey, sk), map[string]bool{p.ProductKey: true}, nil)
		}
	}
	for _, e := range cfg.Enterprises {
		s.enterprises[e.ID] = e
		var products map[string]bool
		if len(e.ProductKeys) > 0 {
			products = map[string]bool{}
			for _, pk := range e.ProductKeys {
				products[pk] = true
			}
		}
		s.b.declare(v1QueueName(e.ID), products, nil).v1 = true
	}
	if cfg.Fleet.Devices > 0 {
		if s.fleet, err = newFleet(cfg.Fleet, s); err != nil {
			return nil, err
		}
	}
	ln, err := tls.Listen("tcp", cfg.Addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	return s, nil
}

func v1QueueName(enterpriseID string) string { return "v1/" + enterpriseID }

func v2QueueName(productKey, subkey string) string { return "v2/" + productKey + "/" + subkey }

// Addr is the listening address, e.g. 127.0.0.1:40123.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// CertPEM is the server certificate in PEM: the CA a client must trust.
func (s *Server) CertPEM() []byte { return s.certPEM }

// Start accepts connections and starts the fleet, if any, in the
// background. It returns at once; Close stops everything.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("snotisim: already started")
	}
	s.started = true
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.acceptLoop() }()
	if s.fleet != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.fleet.run(s.quit) }()
	}
	s.log.Info().Str("addr", s.Addr()).Msg("snoti simulator listening")
	return nil
}

// Run serves until ctx is cancelled, then closes within 5 seconds.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return s.Close(cctx)
}

// Close stops accepting, closes every connection, stops the fleet and
// waits for every goroutine, or until ctx ends. Idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.quit)
		_ = s.ln.Close()
		s.DropConnections()
	})
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing snoti simulator: %w", ctx.Err())
	}
}

// ForgetLogins makes the server forget the login of every connection, as
// a server that lost its session state would: the connections stay open,
// their un-ACKed messages become deliverable again, and their next
// commands are answered with invalid_msg 4003 until they log in again on
// the same connection. It returns how many logins were forgotten.
func (s *Server) ForgetLogins() int {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	n := 0
	for _, sess := range sessions {
		if s.b.logout(sess) {
			n++
		}
	}
	return n
}

// SendInvalidMsg writes invalid_msg with code and msg to every connection
// that has logged in (v1 ones without the code, as the v1 doc has none),
// whether or not its login was forgotten (ForgetLogins), to see how clients
// handle codes such as 4001, 4003 and 4009. It returns how many got it.
func (s *Server) SendInvalidMsg(code int, msg string) int {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	n := 0
	for _, sess := range sessions {
		s.b.mu.Lock()
		in, proto := sess.everIn && !sess.closed, sess.proto
		s.b.mu.Unlock()
		if in {
			sess.send(invalidLine(proto, code, msg))
			n++
		}
	}
	return n
}

// DropConnections closes every client connection, as a server restart or
// a network cut would; their un-ACKed messages become deliverable again.
// It returns how many connections were closed.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sess := range s.sessions {
		sess.close()
	}
	return len(s.sessions)
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// SetFaults replaces the faults; they apply from the next push.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faults.Store(&f)
	return nil
}

// Publish routes one event to every queue that takes it (the queues of
// its product, by subscription) and returns its sim_seq.
func (s *Server) Publish(e Event) (uint64, error) {
	seqs, err := s.PublishBatch([]Event{e})
	if err != nil {
		return 0, err
	}
	return seqs[0], nil
}

// PublishBatch publishes several events under one lock and returns their
// sim_seq in order.
func (s *Server) PublishBatch(es []Event) ([]uint64, error) {
	fields := make([][]byte, len(es))
	for i := range es {
		f, err := es[i].fieldsJSON()
		if err != nil {
			return nil, err
		}
		fields[i] = f
	}
	return s.publishRendered(es, fields), nil
}

// publishRendered publishes events whose fields are already JSON objects.
func (s *Server) publishRendered(es []Event, fields [][]byte) []uint64 {
	now := time.Now()
	evs := make([]*event, len(es))
	seqs := make([]uint64, len(es))
	for i := range es {
		e := es[i] // renderEvent fills in CreatedAt; the caller's slice stays as given
		evs[i] = renderEvent(s.seq.Add(1), &e, fields[i], now)
		seqs[i] = evs[i].seq
	}
	s.b.publish(evs)
	return seqs
}

// Summary returns the ledger counters.
func (s *Server) Summary() Summary { return s.b.summary() }

// Entries returns copies of the ledger entries still held, oldest first.
func (s *Server) Entries() []Entry {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	out := make([]Entry, len(s.b.ledger.entries))
	for i := range s.b.ledger.entries {
		out[i] = s.b.ledger.entries[i].export()
	}
	return out
}

// AckLatency summarises first-push→ACK latency over the entries held.
func (s *Server) AckLatency() Latency {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.ledger.latency()
}

// WaitFor polls the summary until cond holds or ctx ends; tests use it
// instead of sleeping.
func (s *Server) WaitFor(ctx context.Context, cond func(Summary) bool) (Summary, error) {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		sum := s.Summary()
		if cond(sum) {
			return sum, nil
		}
		select {
		case <-ctx.Done():
			return sum, fmt.Errorf("waiting for ledger condition: %w (last summary %+v)", ctx.Err(), sum)
		case <-t.C:
		}
	}
}

// ConnectionInfo describes one logged-in connection.
type ConnectionInfo struct {
	ID       uint64   `json:"id"`
	Protocol string   `json:"protocol"`
	Prefetch int      `json:"prefetch"`
	Inflight int      `json:"inflight"` // pushed, not yet ACKed
	Queues   []string `json:"queues"`
}

// Connections lists the logged-in connections.
func (s *Server) Connections() []ConnectionInfo {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	var out []ConnectionInfo
	for _, sess := range sessions {
		if !sess.loggedIn || sess.closed {
			continue
		}
		ci := ConnectionInfo{ID: sess.id, Protocol: sess.proto, Prefetch: sess.prefetch, Inflight: len(sess.inflight)}
		for _, q := range sess.queues {
			ci.Queues = append(ci.Queues, q.name)
		}
		out = append(out, ci)
	}
	return out
}

func (s *Server) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error().Err(err).Msg("accept failed")
			return
		}
		sess := &session{
			srv: s, id: s.nextSession.Add(1), nc: nc,
			inflight: map[string]*message{},
			wake:     make(chan struct{}, 1),
			done:     make(chan struct{}),
		}
		sess.log = s.log.With().Uint64("conn", sess.id).Str("remote", nc.RemoteAddr().String()).Logger()
		s.mu.Lock()
		select {
		case <-s.quit:
			s.mu.Unlock()
			_ = nc.Close()
			return
		default:
		}
		s.sessions[sess] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.b.note(func(sum *Summary) { sum.Connections++ })
		go func() {
			defer s.wg.Done()
			sess.serve()
			s.mu.Lock()
			delete(s.sessions, sess)
			s.mu.Unlock()
		}()
	}
}

// resolveV2 checks v2 credentials and subkeys and returns the queues to
// consume, declaring them, or widening their events, as needed. Unknown
// event names are accepted and ignored (the real server takes the default
// list of the doc-linked Python client, which has one); they are returned
// for a warning. A declared queue nobody subscribed to yet takes only the
// first subscription's events from then on.
func (s *Server) resolveV2(entries []v2Entry) (qs []*queue, unknown []string, err error) {
	type want struct {
		name   string
		pk     string
		events map[string]bool
	}
	var wants []want
	for _, e := range entries {
		p, ok := s.products[e.ProductKey]
		if !ok || p.AuthID != e.AuthID || p.AuthSecret != e.AuthSecret {
			return nil, nil, fmt.Errorf("auth failed for product_key %q: wrong auth_id or auth_secret, or IP not in whitelist", e.ProductKey)
		}
		if !subkeyPattern.MatchString(e.Subkey) {
			return nil, nil, fmt.Errorf("subkey %q of product_key %q: must be 1-32 of [A-Za-z0-9_]", e.Subkey, e.ProductKey)
		}
		events := map[string]bool{}
		for _, name := range e.Events {
			t, ok := snoti.EventTypeOf(name)
			if !ok {
				unknown = append(unknown, name)
				continue
			}
			events[t] = true
		}
		wants = append(wants, want{v2QueueName(e.ProductKey, e.Subkey), e.ProductKey, events})
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	subkeys := map[string]int{}
	for _, q := range s.b.order {
		if !q.v1 && q.products != nil {
			for pk := range q.products {
				subkeys[pk]++
			}
		}
	}
	for _, w := range wants {
		q, exists := s.b.queues[w.name]
		switch {
		case !exists:
			if subkeys[w.pk] >= maxSubkeysPerProduct {
				return nil, nil, fmt.Errorf("product_key %q already has %d subkeys: at most %d", w.pk, subkeys[w.pk], maxSubkeysPerProduct)
			}
			subkeys[w.pk]++
			q = s.b.declare(w.name, map[string]bool{w.pk: true}, w.events)
		case q.events == nil:
			if n := q.narrow(w.events); n > 0 {
				s.b.backlog -= n
				s.b.ledger.sum.Pending -= uint64(n)
				s.b.ledger.sum.Unsubscribed += uint64(n)
			}
		default:
			for t := range w.events {
				q.events[t] = true
			}
		}
		qs = append(qs, q)
	}
	return qs, unknown, nil
}

// maxSubkeysPerProduct is SNoti's limit of queues per product.
const maxSubkeysPerProduct = 5
