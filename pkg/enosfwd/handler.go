package enosfwd

import (
	"bytes"
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
	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

var nopLog = zerolog.Nop()

// Poster is what the handler needs of the EnOS client (*enos.Client).
// Each call returns one outcome per entry, aligned by index.
type Poster interface {
	PostMeasurepoints(ctx context.Context, entries []enos.MeasurepointEntry, opts ...enos.SendOption) enos.Result
	PostEvents(ctx context.Context, entries []enos.EventEntry, opts ...enos.SendOption) enos.Result
	PostAttributes(ctx context.Context, entries []enos.AttributeEntry, opts ...enos.SendOption) enos.Result
}

// Options are the per-use settings of a Handler.
type Options struct {
	// Replay marks every record as historical: all are sent as backfill
	// (isRealtimeIntegration:false), whatever their age.
	Replay bool
	// Now is the clock that ages records (default time.Now).
	Now func() time.Time
	// Mapping, when not nil, is used instead of reading Config.MappingFile:
	// a *Mapping (fixed) or what OpenMapping returns (reloaded while the
	// caller runs its Run).
	Mapping MappingSource
	// Codec, when not nil, decodes the records instead of a default one:
	// the service's, set up with its schema registry (see
	// pkg/schemaregistry), so that Confluent-framed records are read too.
	Codec *records.Codec
	// Concurrency is the most requests one batch has in flight at once
	// (1..MaxConcurrency; 0 is 1): a batch's measurement points, events
	// and attributes are posted at once, and a batch of at least 64
	// records is split into lanes by device, as many as keep its requests
	// within this bound (see Handle). The forwarder sets it from
	// ENOS_CONCURRENCY.
	Concurrency int
}

// Reasons of the dead letters the handler causes.
const (
	ReasonNoMapping    = "no_mapping"
	ReasonBadRecord    = "bad_record"
	ReasonEnOSRejected = "enos_rejected"
	// ReasonTooLarge: the entry alone exceeds ENOS_MAX_MESSAGE_BYTES, so no
	// request can carry it; it is never sent.
	ReasonTooLarge = "too_large"
)

// Handler forwards DeviceTelemetry and SnotiEvent records to EnOS. It
// implements consume.Handler. Handle may be called concurrently; each call
// posts its batch in at least one request per kind and mode present
// (measurement points, events and attributes, each real-time and backfill)
// and per lane (Options.Concurrency), more when the entries exceed
// ENOS_MAX_MESSAGE_BYTES per request. Each
// call uses the mapping in force when it starts, from start to end.
type Handler struct {
	mapping     MappingSource
	client      Poster
	codec       *records.Codec
	backfillAge time.Duration
	replay      bool
	now         func() time.Time
	concurrency int
	log         zerolog.Logger
	m           *metrics

	lastOK   atomic.Int64 // unix nanos of the last accepted post (or of the start)
	lastFail atomic.Int64 // unix nanos of the last retryable post failure
}

// NewHandler builds a handler sending with client (an *enos.Client built
// from cfg.EnOS(), or a fake). Unless opts.Mapping is set, it reads and
// validates cfg.MappingFile with OpenMapping, reloaded while WatchMapping
// runs. Its metrics are registered with reg, or
// shared with a handler of the same process that registered them first.
func NewHandler(cfg Config, client Poster, opts Options, log zerolog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if client == nil {
		return nil, errors.New("enosfwd: client is nil")
	}
	if cfg.BackfillAge < 0 {
		return nil, fielderr.Bad("BackfillAge", cfg.BackfillAge, "must be 0 (never by age) or positive, e.g. 1h")
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := opts.Mapping
	if m != nil && m.Current() == nil {
		return nil, errors.New("enosfwd: Options.Mapping holds no mapping")
	}
	if m == nil {
		f, err := OpenMapping(cfg.MappingFile, log, reg)
		if err != nil {
			return nil, fmt.Errorf("loading the EnOS mapping: %w", err)
		}
		m = f
	}
	codec := opts.Codec
	if codec == nil {
		c, err := records.NewCodec()
		if err != nil {
			return nil, err
		}
		codec = c
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency < 0 || opts.Concurrency > MaxConcurrency {
		return nil, fielderr.Bad("Concurrency", opts.Concurrency, "must be 1..%d (0 is 1)", MaxConcurrency)
	}
	h := &Handler{
		mapping: m, client: client, codec: codec, backfillAge: cfg.BackfillAge, replay: opts.Replay,
		now: opts.Now, concurrency: max(1, opts.Concurrency), log: log.With().Str("component", "enosfwd").Logger(), m: newMetrics(reg),
	}
	h.lastOK.Store(time.Now().UnixNano())
	return h, nil
}

// New builds the EnOS client from cfg and a handler using it: what the
// forwarder service and a replay sink call.
func New(cfg Config, opts Options, log zerolog.Logger, reg prometheus.Registerer) (*Handler, error) {
	client, err := enos.New(cfg.EnOS(), log)
	if err != nil {
		return nil, err
	}
	return NewHandler(cfg, client, opts, log, reg)
}

// Mapping returns the mapping in force.
func (h *Handler) Mapping() *Mapping { return h.mapping.Current() }

// WatchMapping reloads the mapping file when it changes (see OpenMapping)
// until ctx is done, then returns nil. With a fixed mapping it only waits
// for ctx. Call it at most once; the forwarder runs it beside its consumer.
func (h *Handler) WatchMapping(ctx context.Context) error {
	if r, ok := h.mapping.(interface{ Run(context.Context) error }); ok {
		return r.Run(ctx)
	}
	<-ctx.Done()
	return nil
}

// Ready reports an error when EnOS has failed every post for more than a
// minute (the forwarder is then holding its batch and making no progress).
func (h *Handler) Ready(context.Context) error {
	ok, fail := h.lastOK.Load(), h.lastFail.Load()
	if fail <= ok {
		return nil
	}
	if age := time.Since(time.Unix(0, ok)); age > time.Minute {
		return fmt.Errorf("EnOS has refused or failed every request for %s", age.Round(time.Second))
	}
	return nil
}

// batch collects the entries of one (kind, mode) request and, for each,
// the index of its message.
type batch struct {
	points    []enos.MeasurepointEntry
	pointsIdx []int
	events    []enos.EventEntry
	eventsIdx []int
	attrs     []enos.AttributeEntry
	attrsIdx  []int
}

// lane is the share of a batch that one goroutine posts: every entry of
// the devices dealt to it, by mode (real-time, backfill), each mode's
// kinds at once.
type lane struct {
	modes   [2]batch
	entries int
}

// MaxConcurrency bounds Options.Concurrency: the EnOS client keeps 64 idle
// connections to the host (pkg/sinkhttp), one per request in flight.
const MaxConcurrency = 64

// minLaneEntries is the fewest entries a batch needs per extra lane: a
// small batch (a quiet stream) is one request, as splitting it would only
// multiply requests.
const minLaneEntries = 32

// Handle implements consume.Handler: one outcome per message, in order.
//
// The records of the batch are converted, then posted grouped by kind and
// by mode (real-time, backfill): the real-time measurement points, events
// and attributes at once, each kind in record order, then the backfill
// ones. With Options.Concurrency above 1, a batch large enough is split
// into lanes posted concurrently: each device is dealt to one lane (the
// least loaded when it first appears), so its entries of a kind are posted
// in record order, in one request. A batch has at most
// Options.Concurrency requests in flight: lanes of several kinds are
// folded into fewer (mergeLanes), and every post takes a slot. When a post
// fails for a retryable reason (EnOS down or busy), the posts not started
// yet, of any lane, are not attempted: their messages get the same error
// and the runner retries them later, so a device's entries of one kind
// never overtake each other. Its entries of another kind, posted at the
// same time, may be accepted meanwhile: EnOS orders each kind by time.
func (h *Handler) Handle(ctx context.Context, msgs []kafka.Message) []error {
	errs := make([]error, len(msgs))
	now := h.now()
	historical := h.replay || consume.IsReplay(ctx)
	mapping := h.mapping.Current() // one version for the whole batch
	lanes := make([]lane, h.lanesFor(len(msgs)))
	var laneOf map[enos.Device]int // the lane of each device; only with several lanes
	if len(lanes) > 1 {
		laneOf = make(map[enos.Device]int, len(msgs))
	}
	var s scratch
	skipped := map[string]float64{} // by kind, added to the counter once per batch
	for i, msg := range msgs {
		s.left = len(msgs) - i
		it, err := h.convert(mapping, msg, &s)
		if err != nil {
			errs[i] = err
			h.m.records.WithLabelValues(it.kind, consume.ReasonOf(err)).Inc()
			continue
		}
		if it.skip {
			skipped[it.kind]++
			continue
		}
		l := &lanes[0]
		if laneOf != nil {
			l = &lanes[dealLane(laneOf, lanes, it.device())]
		}
		l.entries++
		b := &l.modes[0]
		if historical || (h.backfillAge > 0 && now.Sub(it.time) > h.backfillAge) {
			b = &l.modes[1]
		}
		switch it.has {
		case pointEntry:
			if b.points == nil { // most batches are all measurement points
				n := (len(msgs)-i)/len(lanes) + 1
				b.points = make([]enos.MeasurepointEntry, 0, n)
				b.pointsIdx = make([]int, 0, n)
			}
			b.points = append(b.points, it.point)
			b.pointsIdx = append(b.pointsIdx, i)
		case eventEntry:
			b.events = append(b.events, it.event)
			b.eventsIdx = append(b.eventsIdx, i)
		case attrEntry:
			b.attrs = append(b.attrs, it.attr)
			b.attrsIdx = append(b.attrsIdx, i)
		}
	}
	for kind, n := range skipped {
		h.m.records.WithLabelValues(kind, "skipped").Add(n)
	}

	lanes = mergeLanes(lanes, h.concurrency)
	var stopAll atomic.Pointer[error] // the first retryable failure of any post
	slots := make(chan struct{}, h.concurrency)
	if len(lanes) == 1 {
		h.post(ctx, &lanes[0], errs, &stopAll, slots)
		return errs
	}
	var wg sync.WaitGroup
	for i := range lanes {
		if lanes[i].entries == 0 {
			continue
		}
		wg.Go(func() { h.post(ctx, &lanes[i], errs, &stopAll, slots) })
	}
	wg.Wait()
	return errs
}

// kinds is the number of kinds of entries (measurement points, events,
// attributes) the batch holds, the most requests it posts at once.
func (b *batch) kinds() int {
	n := 0
	for _, idx := range [][]int{b.pointsIdx, b.eventsIdx, b.attrsIdx} {
		if len(idx) > 0 {
			n++
		}
	}
	return n
}

// mergeLanes folds lanes into fewer when their kinds, each posted at once,
// would put more than concurrency requests in flight: lanes of several
// kinds become concurrency/kinds lanes (at least one). A lane is appended
// whole to another, so each device's entries stay in one lane, in order.
func mergeLanes(lanes []lane, concurrency int) []lane {
	kinds := 1
	for i := range lanes {
		for m := range lanes[i].modes {
			kinds = max(kinds, lanes[i].modes[m].kinds())
		}
	}
	keep := max(1, concurrency/kinds)
	if len(lanes) <= keep {
		return lanes
	}
	for i := keep; i < len(lanes); i++ {
		to, from := &lanes[i%keep], &lanes[i]
		to.entries += from.entries
		for m := range to.modes {
			t, f := &to.modes[m], &from.modes[m]
			t.points, t.pointsIdx = append(t.points, f.points...), append(t.pointsIdx, f.pointsIdx...)
			t.events, t.eventsIdx = append(t.events, f.events...), append(t.eventsIdx, f.eventsIdx...)
			t.attrs, t.attrsIdx = append(t.attrs, f.attrs...), append(t.attrsIdx, f.attrsIdx...)
		}
	}
	return lanes[:keep]
}

// lanesFor is the number of lanes for a batch of n messages: one per
// minLaneEntries, at most the configured concurrency.
func (h *Handler) lanesFor(n int) int {
	return max(1, min(h.concurrency, n/minLaneEntries))
}

// dealLane returns dev's lane, dealing a device seen for the first time to
// the lane with the fewest entries so far.
func dealLane(laneOf map[enos.Device]int, lanes []lane, dev enos.Device) int {
	if l, ok := laneOf[dev]; ok {
		return l
	}
	least := 0
	for l := range lanes {
		if lanes[l].entries < lanes[least].entries {
			least = l
		}
	}
	laneOf[dev] = least
	return least
}

// post sends a lane's entries and records each message's outcome in errs
// (each lane writes only the indices of its own messages). Its real-time
// entries go first, then its backfill ones; within each, the measurement
// points, events and attributes are posted at once, each in one request
// (more when too large for one) and each taking one of slots, the
// batch's requests in flight. After a retryable failure of any post of the
// batch (stopAll), the posts not started yet are not attempted.
func (h *Handler) post(ctx context.Context, l *lane, errs []error, stopAll *atomic.Pointer[error], slots chan struct{}) {
	for mode := range l.modes {
		b := &l.modes[mode]
		var opts []enos.SendOption
		label := "realtime"
		if mode == 1 {
			opts = []enos.SendOption{enos.Backfill()}
			label = "backfill"
		}
		send := func(kind string, idx []int, count func(int) int, post func() enos.Result) {
			slots <- struct{}{}
			defer func() { <-slots }()
			if stop := stopAll.Load(); stop != nil {
				for _, i := range idx {
					errs[i] = *stop
				}
				h.m.records.WithLabelValues(kind, "retry").Add(float64(len(idx)))
				return
			}
			start := time.Now()
			res := post()
			h.m.postSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
			if stop := h.record(kind, label, idx, count, res, errs); stop != nil {
				stopAll.CompareAndSwap(nil, &stop)
			}
		}
		posts := []struct {
			kind  string
			idx   []int
			count func(int) int
			post  func() enos.Result
		}{
			{KindMeasurepoint, b.pointsIdx, func(j int) int { return b.points[j].Len() }, func() enos.Result { return h.client.PostMeasurepoints(ctx, b.points, opts...) }},
			{KindEvent, b.eventsIdx, nil, func() enos.Result { return h.client.PostEvents(ctx, b.events, opts...) }},
			{KindAttribute, b.attrsIdx, nil, func() enos.Result { return h.client.PostAttributes(ctx, b.attrs, opts...) }},
		}
		var wg sync.WaitGroup
		for _, p := range posts {
			switch {
			case len(p.idx) == 0:
			case cap(slots) == 1:
				// One request in flight (Concurrency 1): the kinds one
				// after another, in this order, so a failure stops the
				// later ones.
				send(p.kind, p.idx, p.count, p.post)
			default:
				wg.Go(func() { send(p.kind, p.idx, p.count, p.post) })
			}
		}
		wg.Wait()
	}
}

// record turns a post's result into the messages' outcomes and returns the
// error that stops further posts of this batch, or nil.
//
// count, when not nil, returns the number of measurement points of entry j.
func (h *Handler) record(kind, mode string, idx []int, count func(j int) int, res enos.Result, errs []error) error {
	if len(res.Errs) != len(idx) {
		err := sinkerr.NewRetryable(fmt.Errorf("EnOS client returned %d outcomes for %d %s entries", len(res.Errs), len(idx), kind), 0)
		res.Errs = make([]error, len(idx))
		for j := range res.Errs {
			res.Errs[j] = err
		}
	}
	var stop error
	accepted, points := 0, 0
	for j, err := range res.Errs {
		i := idx[j]
		switch {
		case err == nil:
			accepted++
			if count != nil {
				points += count(j)
			}
		case errors.Is(err, enos.ErrEntryTooLarge):
			errs[i] = rejectf(ReasonTooLarge, err)
			h.m.records.WithLabelValues(kind, ReasonTooLarge).Inc()
		case sinkerr.IsPermanent(err):
			errs[i] = rejectf(ReasonEnOSRejected, err)
			h.m.records.WithLabelValues(kind, ReasonEnOSRejected).Inc()
		default:
			errs[i] = err
			if stop == nil {
				stop = err
			}
			h.m.records.WithLabelValues(kind, "retry").Inc()
		}
	}
	if accepted > 0 { // once per post, not per record
		h.m.records.WithLabelValues(kind, "sent").Add(float64(accepted))
	}
	outcome := "ok"
	switch {
	case stop != nil:
		outcome = "failed"
		h.lastFail.Store(time.Now().UnixNano())
	case accepted < len(idx):
		outcome = "partial"
	}
	if accepted > 0 || stop == nil {
		h.lastOK.Store(time.Now().UnixNano())
	}
	h.m.posts.WithLabelValues(kind, outcome).Inc()
	if points > 0 {
		h.m.points.WithLabelValues(mode).Add(float64(points))
	}
	return stop
}

// isTelemetry tells telemetry from events by the schema header, as both
// carry an event_type header.
func isTelemetry(m kafka.Message) bool {
	return bytes.HasPrefix(records.HeaderBytes(m, "schema"), []byte("DeviceTelemetry."))
}
