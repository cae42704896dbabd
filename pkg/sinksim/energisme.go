package sinksim

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Energisme emulator defaults.
const (
	DefaultEnergismeSource = "generic-sensors"
	DefaultEnergismePath   = "/push"
	energismeTimestamp     = "2006-01-02T15:04:05.000Z"
	maxPushBytes           = 1 << 20
)

// EnergismeConfig configures the Energisme emulator.
type EnergismeConfig struct {
	// Token is the expected "Authorization: Basic <Token>" value.
	Token string
	// Source is the expected "source" header (default generic-sensors).
	Source string
	// Path is the push endpoint path (default /push).
	Path string
	// MaxStored bounds the stored uplinks and request records (default
	// DefaultMaxStored); the oldest are dropped first.
	MaxStored int
}

// Energisme emulates the Energisme HTTP push endpoint. It is an
// http.Handler serving:
//
//	POST <Path>                    the push endpoint
//	GET  /sim/energisme/uplinks|requests|stats
//	POST /sim/energisme/reset
//	GET|POST|DELETE /sim/energisme/faults (FaultConfig)
//
// A push is accepted (200) only with the right Authorization, source and
// Content-Type headers and a body {timestamp, deviceid, payload, devicetype}
// with an RFC 3339 UTC millisecond timestamp and a non-empty hex payload;
// 401 for a bad token, 415 for a wrong Content-Type, 400 for anything else.
// All methods are safe for concurrent use.
type Energisme struct {
	cfg    EnergismeConfig
	log    zerolog.Logger
	mux    *http.ServeMux
	faults Faults
	notify notifier

	mu       sync.Mutex
	uplinks  ring[EnergismeUplink]
	requests ring[EnergismeRequest]
	seq      struct{ uplinks, requests int64 }
	stats    EnergismeStats
}

// NewEnergisme validates cfg, applies defaults and returns the emulator.
func NewEnergisme(cfg EnergismeConfig, log zerolog.Logger) (*Energisme, error) {
	if cfg.Source == "" {
		cfg.Source = DefaultEnergismeSource
	}
	if cfg.Path == "" {
		cfg.Path = DefaultEnergismePath
	}
	if cfg.MaxStored == 0 {
		cfg.MaxStored = DefaultMaxStored
	}
	if cfg.MaxStored < 0 {
		return nil, fmt.Errorf("Energisme emulator: MaxStored=%d: must not be negative", cfg.MaxStored)
	}
	if cfg.Token == "" {
		return nil, errors.New("Energisme emulator: Token is empty: set the expected token")
	}
	// The path becomes a ServeMux pattern, which panics on bad syntax or a
	// clash: refuse anything that is not a plain path outside /sim/.
	if cfg.Path[0] != '/' || strings.ContainsAny(cfg.Path, " \t{}") || strings.HasPrefix(cfg.Path, "/sim/") {
		return nil, fmt.Errorf("Energisme emulator: Path=%q: must be a plain path starting with / and not under /sim/", cfg.Path)
	}
	e := &Energisme{cfg: cfg, log: log.With().Str("component", "energisme-sim").Logger(),
		uplinks: newRing[EnergismeUplink](cfg.MaxStored), requests: newRing[EnergismeRequest](cfg.MaxStored)}
	e.mux = http.NewServeMux()
	e.Register(e.mux)
	return e, nil
}

// Register adds the emulator's routes to mux.
func (e *Energisme) Register(mux *http.ServeMux) {
	mux.HandleFunc(e.cfg.Path, e.servePush)
	// Listings take ?after=<seq>&limit=<n>; uplinks also ?deviceid= and
	// ?devicetype=.
	mux.HandleFunc("GET /sim/energisme/uplinks", func(w http.ResponseWriter, r *http.Request) {
		serveList(w, r, e.Uplinks(), func(u EnergismeUplink) int64 { return u.Seq }, func(r *http.Request, u EnergismeUplink) bool {
			return matches(r, "deviceid", u.DeviceID) && matches(r, "devicetype", u.DeviceType)
		})
	})
	mux.HandleFunc("GET /sim/energisme/requests", func(w http.ResponseWriter, r *http.Request) {
		serveList(w, r, e.Requests(), func(q EnergismeRequest) int64 { return q.Seq }, func(*http.Request, EnergismeRequest) bool { return true })
	})
	mux.HandleFunc("GET /sim/energisme/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, e.Stats()) })
	mux.HandleFunc("POST /sim/energisme/reset", func(w http.ResponseWriter, r *http.Request) { e.Reset(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/sim/energisme/faults", e.faults.serveControl)
}

// ServeHTTP serves the emulator's routes.
func (e *Energisme) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Faults returns the emulator's fault injection, applied to the push
// endpoint.
func (e *Energisme) Faults() *Faults { return &e.faults }

// Uplinks returns a copy of the retained accepted uplinks, in arrival order.
func (e *Energisme) Uplinks() []EnergismeUplink {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.uplinks.snapshot()
}

// Requests returns a copy of the log of push requests (faults excluded).
func (e *Energisme) Requests() []EnergismeRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests.snapshot()
}

// Stats returns the counters.
func (e *Energisme) Stats() EnergismeStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Faults = e.faults.Injected()
	return s
}

// Reset forgets every stored uplink, request and counter.
func (e *Energisme) Reset() {
	e.mu.Lock()
	e.uplinks.reset()
	e.requests.reset()
	e.stats = EnergismeStats{}
	e.seq = struct{ uplinks, requests int64 }{}
	e.mu.Unlock()
	e.notify.changed()
}

// WaitFor blocks until cond returns true or ctx ends. cond is called once
// at first and again after each request.
func (e *Energisme) WaitFor(ctx context.Context, cond func(e *Energisme) bool) error {
	return e.notify.wait(ctx, func() bool { return cond(e) })
}

// WaitUplinks blocks until at least n uplinks were accepted since the last
// Reset, or ctx ends.
func (e *Energisme) WaitUplinks(ctx context.Context, n int) error {
	return e.WaitFor(ctx, func(e *Energisme) bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.stats.Accepted >= n
	})
}

type pushBody struct {
	Timestamp  string `json:"timestamp"`
	DeviceID   string `json:"deviceid"`
	Payload    string `json:"payload"`
	DeviceType string `json:"devicetype"`
}

// pushOK is the body of an accepted push, as writeJSON encodes it;
// jsonContentType its Content-Type header (never appended to).
var (
	pushOK          = []byte(`{"status":"ok"}` + "\n")
	jsonContentType = []string{"application/json"}
)

// isJSONMediaType reports whether a Content-Type header names
// application/json, parameters allowed.
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func (e *Energisme) servePush(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	rec := EnergismeRequest{ReceivedAt: now}
	reply := func(status int, reason string) {
		rec.Status, rec.Reason = status, reason
		e.mu.Lock()
		e.seq.requests++
		rec.Seq = e.seq.requests
		e.requests.push(rec)
		e.stats.Requests++
		if status == http.StatusOK {
			e.stats.Accepted++
		} else {
			e.stats.Rejected++
		}
		e.mu.Unlock()
		e.notify.changed()
		if status != http.StatusOK {
			e.log.Info().Int("status", status).Str("reason", reason).Str("deviceid", rec.DeviceID).Msg("rejected push")
			http.Error(w, reason, status)
			return
		}
		// What writeJSON writes for {"status":"ok"}, without encoding it
		// again for every push.
		w.Header()["Content-Type"] = jsonContentType
		w.WriteHeader(status)
		_, _ = w.Write(pushOK)
	}
	if r.Method != http.MethodPost {
		reply(http.StatusMethodNotAllowed, "method must be POST")
		return
	}
	// Read the whole body first: the server notices a client that gave up
	// (and cancels r.Context, ending injected latency) only after EOF.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushBytes))
	if err != nil {
		reply(http.StatusRequestEntityTooLarge, "reading body: "+err.Error())
		return
	}
	if e.faults.apply(r.Context(), w, func(status int) any {
		return map[string]string{"error": "injected fault"}
	}) {
		e.notify.changed()
		return
	}
	if r.Header.Get("Authorization") != "Basic "+e.cfg.Token {
		reply(http.StatusUnauthorized, "missing or wrong Authorization")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && !isJSONMediaType(ct) {
		reply(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if got := r.Header.Get("source"); got != e.cfg.Source {
		reply(http.StatusBadRequest, fmt.Sprintf("source header %q, want %q", got, e.cfg.Source))
		return
	}
	b, reason := decodePush(raw)
	if reason != "" {
		reply(http.StatusBadRequest, reason)
		return
	}
	rec.DeviceID = b.DeviceID
	up, reason := validatePush(b)
	if reason != "" {
		reply(http.StatusBadRequest, reason)
		return
	}
	up.Source, up.ReceivedAt = r.Header.Get("source"), now
	e.mu.Lock()
	e.seq.uplinks++
	up.Seq = e.seq.uplinks
	e.uplinks.push(up)
	e.mu.Unlock()
	reply(http.StatusOK, "")
}

// decodePush decodes a push body, by the fast path when it can, or
// returns why it is not one.
func decodePush(raw []byte) (pushBody, string) {
	var b pushBody
	if fastDecodePush(raw, &b) {
		return b, ""
	}
	return decodePushJSON(raw)
}

// decodePushJSON is decodePush by encoding/json alone.
func decodePushJSON(raw []byte) (pushBody, string) {
	var b pushBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, "invalid JSON body: " + err.Error()
	}
	if dec.More() {
		return b, "invalid JSON body: trailing data"
	}
	return b, ""
}

func validatePush(b pushBody) (EnergismeUplink, string) {
	if b.DeviceID == "" || b.DeviceType == "" || b.Payload == "" || b.Timestamp == "" {
		return EnergismeUplink{}, "timestamp, deviceid, payload and devicetype are required"
	}
	t, err := time.Parse(energismeTimestamp, b.Timestamp)
	if err != nil {
		return EnergismeUplink{}, fmt.Sprintf("timestamp %q: want RFC 3339 UTC with milliseconds (%s)", b.Timestamp, energismeTimestamp)
	}
	payload, err := hex.DecodeString(b.Payload)
	if err != nil {
		return EnergismeUplink{}, fmt.Sprintf("payload is not hex: %v", err)
	}
	return EnergismeUplink{Timestamp: b.Timestamp, Time: t, DeviceID: b.DeviceID, PayloadHex: b.Payload, Payload: payload, DeviceType: b.DeviceType}, ""
}
