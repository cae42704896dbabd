package sinksim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// EnOS emulator defaults.
const (
	DefaultEnOSTokenTTL      = 2 * time.Hour
	DefaultEnOSTimestampSkew = 5 * time.Minute
	// DefaultEnOSMaxMessageSize is the strict reading of EnOS's "512 KB"
	// enos-message limit (512,000 bytes), so a client that reads it as
	// KiB is refused here before it is by EnOS.
	DefaultEnOSMaxMessageSize = 512_000
)

// EnOSConfig configures the EnOS emulator.
type EnOSConfig struct {
	// Credentials maps each accepted access key (appKey) to its secret.
	Credentials map[string]string
	// OrgID, when set, is the only orgId the integration endpoints accept.
	OrgID string
	// TokenTTL is the lifetime of issued tokens (default 2 h).
	TokenTTL time.Duration
	// TimestampSkew is how far a token request timestamp may be from the
	// emulator's clock (default 5 min).
	TimestampSkew time.Duration
	// MaxMessageBytes is the enos-message size limit (default 512,000
	// bytes).
	MaxMessageBytes int
	// MaxStored bounds each kind of stored item (default
	// DefaultMaxStored); the oldest are dropped first.
	MaxStored int
	// KnownDevices, when not nil, is the set of devices the integration
	// endpoints accept; a message naming another device is rejected whole
	// (HTTP 200, code CodeUnknownDevice).
	KnownDevices []EnOSDevice
}

// Codes the EnOS emulator answers with, beside the token service statuses.
const (
	CodeInvalidParameter = 1004
	CodeTokenExpired     = 1203
	CodeUnknownDevice    = 1100
	CodeMessageTooLarge  = 1413
	CodeUnauthorized     = 401
)

// EnOS emulates the APIM token service and the EnOS integration API.
// It is an http.Handler serving:
//
//	POST /apim-token-service/v2.0/token/get and …/token/refresh
//	POST /connect-service/v2.1/integration?action=…&orgId=…
//	GET  /sim/enos/points|events|attributes|requests|stats
//	POST /sim/enos/reset, /sim/enos/tokens/expire, /sim/enos/tokens/revoke
//	GET|POST|DELETE /sim/enos/faults (FaultConfig)
//
// All methods are safe for concurrent use.
type EnOS struct {
	cfg    EnOSConfig
	log    zerolog.Logger
	mux    *http.ServeMux
	known  map[string]bool
	faults Faults
	notify notifier

	mu         sync.Mutex
	tokens     map[string]*enosToken // by token
	current    map[string]string     // appKey → its current token
	seen       map[string]time.Time  // encryption → request timestamp
	points     ring[EnOSPoint]
	events     ring[EnOSEvent]
	attributes ring[EnOSAttribute]
	requests   ring[EnOSRequest]
	seq        struct{ points, events, attributes, requests int64 }
	stats      EnOSStats
}

type enosToken struct {
	appKey  string
	expires time.Time
}

// NewEnOS validates cfg, applies defaults and returns the emulator.
func NewEnOS(cfg EnOSConfig, log zerolog.Logger) (*EnOS, error) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultEnOSTokenTTL
	}
	if cfg.TimestampSkew == 0 {
		cfg.TimestampSkew = DefaultEnOSTimestampSkew
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultEnOSMaxMessageSize
	}
	if cfg.MaxStored == 0 {
		cfg.MaxStored = DefaultMaxStored
	}
	var errs []error
	if len(cfg.Credentials) == 0 {
		errs = append(errs, errors.New("EnOS emulator: Credentials is empty: add at least one appKey → secret"))
	}
	if cfg.TokenTTL < time.Second {
		errs = append(errs, fmt.Errorf("EnOS emulator: TokenTTL=%s: must be at least 1s", cfg.TokenTTL))
	}
	if cfg.TimestampSkew < 0 || cfg.MaxMessageBytes < 0 || cfg.MaxStored < 0 {
		errs = append(errs, errors.New("EnOS emulator: TimestampSkew, MaxMessageBytes and MaxStored must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e := &EnOS{
		cfg:     cfg,
		log:     log.With().Str("component", "enos-sim").Logger(),
		tokens:  map[string]*enosToken{},
		current: map[string]string{},
		seen:    map[string]time.Time{},

		points:     newRing[EnOSPoint](cfg.MaxStored),
		events:     newRing[EnOSEvent](cfg.MaxStored),
		attributes: newRing[EnOSAttribute](cfg.MaxStored),
		requests:   newRing[EnOSRequest](cfg.MaxStored),
	}
	if cfg.KnownDevices != nil {
		e.known = map[string]bool{}
		for _, d := range cfg.KnownDevices {
			e.known[d.key()] = true
		}
	}
	e.mux = http.NewServeMux()
	e.Register(e.mux)
	return e, nil
}

// Register adds the emulator's routes to mux, to share one server with the
// Energisme emulator.
func (e *EnOS) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /apim-token-service/v2.0/token/get", e.serveTokenGet)
	mux.HandleFunc("POST /apim-token-service/v2.0/token/refresh", e.serveTokenRefresh)
	mux.HandleFunc("/connect-service/v2.1/integration", e.serveIntegration)
	// Listings take ?after=<seq>&limit=<n> and field filters.
	mux.HandleFunc("GET /sim/enos/points", func(w http.ResponseWriter, r *http.Request) {
		serveList(w, r, e.Points(), func(p EnOSPoint) int64 { return p.Seq }, func(r *http.Request, p EnOSPoint) bool {
			return matchesDevice(r, p.EnOSDevice) && matches(r, "pointId", p.PointID)
		})
	})
	mux.HandleFunc("GET /sim/enos/events", func(w http.ResponseWriter, r *http.Request) {
		serveList(w, r, e.Events(), func(v EnOSEvent) int64 { return v.Seq }, func(r *http.Request, v EnOSEvent) bool {
			return matchesDevice(r, v.EnOSDevice) && matches(r, "eventId", v.EventID)
		})
	})
	mux.HandleFunc("GET /sim/enos/attributes", func(w http.ResponseWriter, r *http.Request) {
		serveList(w, r, e.Attributes(), func(a EnOSAttribute) int64 { return a.Seq }, func(r *http.Request, a EnOSAttribute) bool {
			return matchesDevice(r, a.EnOSDevice) && matches(r, "name", a.Name)
		})
	})
	mux.HandleFunc("GET /sim/enos/requests", func(w http.ResponseWriter, r *http.Request) {
		serveList(w, r, e.Requests(), func(q EnOSRequest) int64 { return q.Seq }, func(*http.Request, EnOSRequest) bool { return true })
	})
	mux.HandleFunc("GET /sim/enos/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, e.Stats()) })
	mux.HandleFunc("POST /sim/enos/reset", func(w http.ResponseWriter, r *http.Request) { e.Reset(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /sim/enos/tokens/expire", func(w http.ResponseWriter, r *http.Request) { e.ExpireTokens(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /sim/enos/tokens/revoke", func(w http.ResponseWriter, r *http.Request) { e.RevokeTokens(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/sim/enos/faults", e.faults.serveControl)
}

// ServeHTTP serves the emulator's routes.
func (e *EnOS) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Faults returns the emulator's fault injection, applied to the integration
// endpoints.
func (e *EnOS) Faults() *Faults { return &e.faults }

// Points returns a copy of the retained accepted measurement points, in
// arrival order.
func (e *EnOS) Points() []EnOSPoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.points.snapshot()
}

// Events returns a copy of every accepted event, in arrival order.
func (e *EnOS) Events() []EnOSEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events.snapshot()
}

// Attributes returns a copy of every accepted attribute, in arrival order.
func (e *EnOS) Attributes() []EnOSAttribute {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.attributes.snapshot()
}

// Requests returns a copy of the log of integration requests.
func (e *EnOS) Requests() []EnOSRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests.snapshot()
}

// Stats returns the counters.
func (e *EnOS) Stats() EnOSStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Faults = e.faults.Injected()
	return s
}

// Reset forgets every stored item, request and counter (tokens stay valid).
func (e *EnOS) Reset() {
	e.mu.Lock()
	e.points.reset()
	e.events.reset()
	e.attributes.reset()
	e.requests.reset()
	e.seq = struct{ points, events, attributes, requests int64 }{}
	e.stats = EnOSStats{}
	e.mu.Unlock()
	e.notify.changed()
}

// ExpireTokens makes every issued token expired: the integration endpoints
// answer code 1203 until the client gets a new one.
func (e *EnOS) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, t := range e.tokens {
		t.expires = past
	}
}

// RevokeTokens forgets every issued token: the integration endpoints answer
// HTTP 401 to them.
func (e *EnOS) RevokeTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = map[string]*enosToken{}
	e.current = map[string]string{}
}

// WaitFor blocks until cond returns true or ctx ends. cond is called once
// at first and again after each change of the stored data; it reads the
// emulator through its accessor methods.
func (e *EnOS) WaitFor(ctx context.Context, cond func(e *EnOS) bool) error {
	return e.notify.wait(ctx, func() bool { return cond(e) })
}

// WaitPoints blocks until at least n points were accepted since the last
// Reset, or ctx ends.
func (e *EnOS) WaitPoints(ctx context.Context, n int) error {
	return e.WaitFor(ctx, func(e *EnOS) bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.stats.Points >= n
	})
}

// WaitRequests blocks until at least n integration requests were served or
// ctx ends.
func (e *EnOS) WaitRequests(ctx context.Context, n int) error {
	return e.WaitFor(ctx, func(e *EnOS) bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.stats.Requests >= n
	})
}

// matchesDevice applies the assetId, productKey and deviceKey filters.
func matchesDevice(r *http.Request, d EnOSDevice) bool {
	return matches(r, "assetId", d.AssetID) && matches(r, "productKey", d.ProductKey) && matches(r, "deviceKey", d.DeviceKey)
}
