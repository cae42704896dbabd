package snotisim

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

const (
	protoV1 = "v1"
	protoV2 = "v2"
)

// writeTimeout bounds one flush to a client that stopped reading.
const writeTimeout = 30 * time.Second

// outItem is a queued write: a push (m set) or a control line.
type outItem struct {
	m     *message
	id    []byte // delivery id, raw JSON
	line  []byte
	close bool // close the connection once line is written
}

// session is one client connection. The reading goroutine (serve) owns
// login and command handling; writeLoop owns every write after login. The
// delivery fields are guarded by the broker's mutex.
type session struct {
	srv *Server
	id  uint64
	nc  net.Conn
	log zerolog.Logger

	// Set at login, read-only afterwards.
	proto    string
	prefetch int

	// Guarded by srv.b.mu.
	loggedIn  bool
	everIn    bool // logged in at least once (a later "not logged in" is 4003)
	closed    bool
	stalled   bool // a stale ACK stopped its pushes (Faults.StallOnStaleAck)
	queues    []*queue
	products  map[string]bool // product keys logged in or subscribed on it
	inflight  map[string]*message
	out       []outItem
	nextDeliv uint64

	wake      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	written       int  // pushes written, owned by writeLoop
	writerStarted bool // owned by serve
}

func (s *session) hasCredit() bool {
	return !s.closed && s.loggedIn && !s.stalled && len(s.inflight) < s.prefetch
}

// assign queues m for writing under a new delivery id. Must hold b.mu.
func (s *session) assign(m *message) {
	id := s.nextDeliveryID()
	s.inflight[string(id)] = m
	s.out = append(s.out, outItem{m: m, id: id})
	s.signal()
}

func (s *session) addQueue(q *queue) {
	if !slices.Contains(s.queues, q) {
		s.queues = append(s.queues, q)
	}
}

// nextDeliveryID returns the connection's next delivery id. Ids are
// scoped to the connection, as the real server's are: every connection
// counts from 1, so an old connection's id means nothing on a new one.
func (s *session) nextDeliveryID() []byte {
	s.nextDeliv++
	return s.deliveryID(s.nextDeliv)
}

// deliveryID renders the connection's nth delivery id in the configured
// JSON type.
func (s *session) deliveryID(n uint64) []byte {
	kind := s.srv.cfg.DeliveryIDs
	if kind == IDMixed {
		kind = [...]string{IDNumber, IDBigNumber, IDString}[n%3]
	}
	switch kind {
	case IDBigNumber: // beyond 2^53: a float64 round trip changes it
		return strconv.AppendUint(nil, 1_000_000_000_000_000_000+n, 10)
	case IDString:
		b := append(make([]byte, 0, 24), `"d`...)
		b = strconv.AppendUint(b, n, 10)
		return append(b, '"')
	default:
		return strconv.AppendUint(make([]byte, 0, 20), n, 10)
	}
}

// issued reports whether id is one this connection has pushed under.
// Must hold b.mu.
func (s *session) issued(id []byte) bool {
	digits := bytes.Trim(id, `"d`)
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return false
	}
	if n > 1_000_000_000_000_000_000 {
		n -= 1_000_000_000_000_000_000
	}
	return n >= 1 && n <= s.nextDeliv && bytes.Equal(s.deliveryID(n), id)
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// send queues a control line; dropped if the session is closed.
func (s *session) send(line []byte) {
	b := s.srv.b
	b.mu.Lock()
	if !s.closed {
		s.out = append(s.out, outItem{line: line})
	}
	b.mu.Unlock()
	s.signal()
}

// close ends the connection; the reader then detaches the session.
func (s *session) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.nc.Close()
	})
}

// writeLoop writes pushes and control lines, applying the faults.
func (s *session) writeLoop() {
	defer s.close()
	bw := bufio.NewWriterSize(s.nc, 64<<10)
	var batch []outItem
	var line []byte
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		b := s.srv.b
		b.mu.Lock()
		if s.closed {
			b.mu.Unlock()
			return
		}
		batch, s.out = s.out, batch[:0]
		proto := s.proto
		b.mu.Unlock()
		f := s.srv.Faults()
		_ = s.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		for _, it := range batch {
			if it.m == nil {
				_, _ = bw.Write(it.line)
				if it.close {
					_ = bw.Flush()
					return
				}
				continue
			}
			if f.Delay > 0 {
				if bw.Flush() != nil {
					return
				}
				time.Sleep(f.Delay) // the injected fault itself, not synchronisation
			}
			s.written++
			line = s.renderPush(line[:0], proto, it, f.OverlongEvery > 0 && s.written%f.OverlongEvery == 0, f.overlongBytes())
			_, _ = bw.Write(line)
			if f.MalformedEvery > 0 && s.written%f.MalformedEvery == 0 {
				_, _ = bw.Write(s.malformed(s.written / f.MalformedEvery))
				b.note(func(sum *Summary) { sum.Injected++ })
			}
			if (f.DropEvery > 0 && s.written%f.DropEvery == 0) || (f.DropProbability > 0 && rand.Float64() < f.DropProbability) {
				_ = bw.Flush()
				s.log.Debug().Int("pushes", s.written).Msg("fault: dropping connection")
				return
			}
		}
		clear(batch)
		if err := bw.Flush(); err != nil {
			return
		}
	}
}

// renderPush appends the push line of it; padded adds a "sim_pad" member
// so the line is about size bytes long.
func (s *session) renderPush(b []byte, proto string, it outItem, padded bool, size int) []byte {
	if proto == protoV1 {
		b = append(b, `{"cmd":"enterprise_event_push","delivery_id":`...)
		b = append(b, it.id...)
	} else {
		b = append(b, `{"cmd":"event_push","delivery_id":`...)
		b = append(b, it.id...)
		if it.m.hasMsgID {
			b = append(b, `,"msg_id":`...)
			b = appendMsgID(b, it.m.id)
		}
	}
	if s.srv.cfg.Trace {
		b = append(b, `,"sim_seq":`...)
		b = strconv.AppendUint(b, it.m.ev.seq, 10)
	}
	b = append(b, ',')
	if padded {
		b = append(b, `"sim_pad":"`...)
		n := size - len(b) - len(it.m.ev.body) - 4
		for range max(n, 0) {
			b = append(b, 'x')
		}
		b = append(b, `",`...)
	}
	b = append(b, it.m.ev.body...)
	if proto == protoV2 {
		b = append(b, it.m.ev.v2Extra...)
	}
	return append(b, "}\n"...)
}

// appendMsgID renders the v2 msg_id of a message: a JSON string, while
// delivery ids are numbers by default, so both types get echoed.
func appendMsgID(b []byte, id uint64) []byte {
	b = append(b, `"m`...)
	b = strconv.AppendUint(b, id, 10)
	return append(b, '"')
}

// malformed returns the nth injected bad line, cycling through the kinds
// a client must survive.
func (s *session) malformed(n int) []byte {
	switch n % 3 {
	case 1:
		return []byte("this is not json\n")
	case 2:
		return []byte(`{"cmd":"event_push","delivery_id":17,"event_type":"device_on` + "\n")
	default:
		return []byte(`{"cmd":"event_push","event_type":"device_online","product_key":"sim","sim_malformed":"no delivery_id"}` + "\n")
	}
}
