package energismefwd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// EventTypeRaw is the only event type pushed to Energisme.
const EventTypeRaw = "device_status_raw"

// DefaultConcurrency is how many devices are pushed at once by default.
// Energisme takes one uplink per request, so the push's rate is about
// Concurrency per round trip: 8 in flight made at most 400 uplinks/s
// across a WAN of 20 ms (BenchmarkPushAtRoundTrip), 64 make 3200. The
// client keeps a connection per push in flight (energisme.Config.MaxInFlight).
const DefaultConcurrency = 64

// Pusher sends one uplink and classifies failures with sinkerr
// (*energisme.Client).
type Pusher interface {
	Push(ctx context.Context, u energisme.Uplink) error
}

// PushConfig configures a PushHandler.
type PushConfig struct {
	// Mapping is a *Mapping (fixed) or what OpenMapping returns (reloaded
	// while WatchMapping runs); each event is resolved with the mapping in
	// force when it is sent.
	Mapping     MappingSource
	Unmapped    UnmappedPolicy // default UnmappedDLQ
	Concurrency int            // devices pushed at once (default DefaultConcurrency)
	// Backoff is the wait between the attempts of a failing uplink under
	// Run (zero fields: consume's defaults, 200ms to 3s); Handle's callers
	// retry themselves.
	Backoff consume.Backoff
}

// PushHandler turns device_status_raw events into Energisme uplinks: one
// POST per event, timestamp = the event's created_at, payload = its raw
// bytes, device id and devicetype from the mapping. It is a consume.Handler
// for consume.Runner (the forwarder) and consume.Processor (replays); it is
// safe for concurrent use. Results per message:
//
//   - nil: sent (2xx), or nothing to send (another event type, or an
//     unmapped product under UnmappedSkip);
//   - retryable (from the client: 408, 429, 5xx, 401/403, network): the
//     runner retries, holding the batch; a device's later events in the
//     batch are not attempted before it, so they stay in order;
//   - permanent, with a reason: undecodable, no_payload, no_mapping,
//     no_device_id, invalid_uplink, or http_<status> for a 4xx, whose dead
//     letter's error carries the status and the response body.
type PushHandler struct {
	cfg      PushConfig
	pusher   Pusher
	codec    *records.Codec
	log      zerolog.Logger
	perKey   consume.Handler
	keyed    *consume.Keyed
	events   *prometheus.CounterVec // outcome
	unmapped *prometheus.CounterVec // product_key, action
	warned   sync.Map               // product keys already logged as unmapped
	// failingSince is the unix nanos of the first retryable failure since
	// the last success; 0 while pushes succeed.
	failingSince atomic.Int64
}

// FailingFor is how long Ready tolerates Energisme failing every push.
const FailingFor = time.Minute

// Ready reports an error when every push has failed retryably for more
// than FailingFor (Energisme down, or a rejected token). An idle stream is
// ready. Safe for concurrent use.
func (h *PushHandler) Ready(context.Context) error {
	if since := h.failingSince.Load(); since != 0 {
		if d := time.Since(time.Unix(0, since)); d > FailingFor {
			return fmt.Errorf("every push to Energisme failing for %s", d.Round(time.Second))
		}
	}
	return nil
}

// NewPushHandler validates cfg and builds the handler. Its counters are
// registered with reg (reused when another handler of the process did).
func NewPushHandler(cfg PushConfig, p Pusher, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*PushHandler, error) {
	if cfg.Mapping == nil || cfg.Mapping.Current() == nil {
		return nil, errors.New("energismefwd: the push handler needs a mapping (ENERGISME_MAPPING_FILE)")
	}
	if p == nil || codec == nil {
		return nil, errors.New("energismefwd: the push handler needs a pusher and a codec")
	}
	var err error
	if cfg.Unmapped, err = ParseUnmappedPolicy(string(cfg.Unmapped)); err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	h := &PushHandler{
		cfg: cfg, pusher: p, codec: codec,
		log: log.With().Str("component", "energisme-push").Logger(),
		events: httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "energisme_push_events_total",
			Help: "Events handled by the Energisme push, by outcome (sent, ignored, unmapped_skipped, rejected, retry).",
		}, []string{"outcome"})),
		unmapped: httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "energisme_unmapped_events_total",
			Help: "Raw events of products missing from ENERGISME_MAPPING_FILE, by product and action (skipped, dead_lettered).",
		}, []string{"product_key", "action"})),
	}
	h.perKey = consume.PerKey(cfg.Concurrency, h.send)
	if h.keyed, err = consume.NewKeyed(consume.KeyedConfig{Concurrency: cfg.Concurrency, Backoff: cfg.Backoff, Log: h.log}, h.send); err != nil {
		return nil, err
	}
	return h, nil
}

// WatchMapping reloads the mapping file when it changes (see OpenMapping)
// until ctx is done, then returns nil. With a fixed mapping it only waits
// for ctx. Call it at most once; the forwarder runs it beside its consumer.
func (h *PushHandler) WatchMapping(ctx context.Context) error {
	if r, ok := h.cfg.Mapping.(interface{ Run(context.Context) error }); ok {
		return r.Run(ctx)
	}
	<-ctx.Done()
	return nil
}

// Handle implements consume.Handler: concurrent across keys (devices), in
// order within a key. It blocks until every message has a result or ctx
// ends (the pending pushes then fail with ctx's error, which is retryable).
func (h *PushHandler) Handle(ctx context.Context, msgs []kafka.Message) []error {
	return h.perKey.Handle(ctx, msgs)
}

// Run implements consume.AsyncHandler, for consume.AsyncRunner (the
// forwarder): the same pushes as Handle, pipelined (consume.Keyed). Up to
// Concurrency uplinks are in flight, each of another device, and a device
// that is slow or failing holds back only its own later events: the others
// go on with what is fetched next. A retryable failure is retried (backoff,
// Retry-After) before the device's later events; duplicates by event_id
// are dropped; each event is reported done or dead-lettered on its own.
func (h *PushHandler) Run(ctx context.Context, in <-chan kafka.Message, acks consume.Acks) error {
	return h.keyed.Run(ctx, in, acks)
}

func (h *PushHandler) send(ctx context.Context, m kafka.Message) error {
	// The header spares decoding the events that are not for Energisme.
	if et := records.Header(m, "event_type"); et != "" && et != EventTypeRaw {
		h.events.WithLabelValues("ignored").Inc()
		return nil
	}
	var ev records.SnotiEvent // not escaping: no allocation per event
	if err := h.codec.UnmarshalSnotiEvent(m.Value, &ev); err != nil {
		h.events.WithLabelValues("rejected").Inc()
		return consume.Reject("undecodable", err)
	}
	if ev.EventType != EventTypeRaw {
		h.events.WithLabelValues("ignored").Inc()
		return nil
	}
	if len(ev.Raw) == 0 {
		h.events.WithLabelValues("rejected").Inc()
		return consume.Reject("no_payload", fmt.Errorf("event %s of device %s has no raw payload", ev.EventID, ev.DID))
	}
	target, err := h.cfg.Mapping.Current().Resolve(ev.ProductKey, ev.DID, ev.MAC)
	switch {
	case errors.Is(err, ErrUnmapped):
		return h.unmappedEvent(ev, err)
	case err != nil:
		h.events.WithLabelValues("rejected").Inc()
		return consume.Reject("no_device_id", err)
	}
	err = h.pusher.Push(ctx, energisme.Uplink{Time: ev.CreatedAt, DeviceID: target.DeviceID, Payload: ev.Raw, DeviceType: target.DeviceType})
	switch {
	case err == nil:
		h.failingSince.Store(0)
		h.events.WithLabelValues("sent").Inc()
		return nil
	case sinkerr.IsPermanent(err):
		h.events.WithLabelValues("rejected").Inc()
		var herr *energisme.HTTPError
		if errors.As(err, &herr) {
			return consume.Reject(fmt.Sprintf("http_%d", herr.StatusCode), err)
		}
		return consume.Reject("invalid_uplink", err)
	case ctx.Err() != nil:
		return err // shutting down: not Energisme's fault
	default:
		h.failingSince.CompareAndSwap(0, time.Now().UnixNano())
		h.events.WithLabelValues("retry").Inc()
		return err
	}
}

func (h *PushHandler) unmappedEvent(ev records.SnotiEvent, err error) error {
	action := "dead_lettered"
	if h.cfg.Unmapped == UnmappedSkip {
		action = "skipped"
	}
	h.unmapped.WithLabelValues(ev.ProductKey, action).Inc()
	// Loud once per product, quiet afterwards: the counter keeps the tally.
	lvl := zerolog.DebugLevel
	if _, seen := h.warned.LoadOrStore(ev.ProductKey, true); !seen {
		lvl = zerolog.WarnLevel
	}
	h.log.WithLevel(lvl).Str("product_key", ev.ProductKey).Str("did", ev.DID).Str("action", action).
		Msg("product not in ENERGISME_MAPPING_FILE; add it to forward its devices")
	if h.cfg.Unmapped == UnmappedSkip {
		h.events.WithLabelValues("unmapped_skipped").Inc()
		return nil
	}
	h.events.WithLabelValues("rejected").Inc()
	return consume.Reject("no_mapping", err)
}
