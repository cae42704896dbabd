package decode

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/value"
)

// Decoders is what the handler needs of the codec registry
// (*codecs.Registry).
type Decoders interface {
	Decode(productKey string, raw []byte) (codecs.Result, error)
	DecodeKV(productKey string, kv map[string]any) (codecs.Result, error)
}

// Handler decodes a batch of SnotiEvents and writes their telemetry in one
// acks=all write. A message is done only when its telemetry is durable;
// undecodable ones are rejected with a reason (the consume runner
// dead-letters them); events that carry no data points are done at once.
// The decoder service and bridgectl's re-decode replay share it.
type Handler struct {
	codecs   Decoders
	codec    *records.Codec
	w        consume.MessageWriter
	topic    string                 // w's topic, when known: see NewHandler
	outcomes *prometheus.CounterVec // product_key, outcome
}

// NewHandler builds a handler writing telemetry with w, a writer whose
// Topic is the telemetry topic. Its counter is registered with reg, or
// reused when another handler of the process registered it.
func NewHandler(dec Decoders, codec *records.Codec, w consume.MessageWriter, reg prometheus.Registerer) *Handler {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "decoder_payloads_total",
		Help: "Events handled by the decoder, by product and outcome (decoded, skipped, or a dead-letter reason).",
	}, []string{"product_key", "outcome"})
	c = httpserver.Register(reg, c)
	h := &Handler{codecs: dec, codec: codec, w: w, outcomes: c}
	// The writer names the topic (kafka-go refuses messages that name one
	// when Writer.Topic is set), but the codec frames for a topic: with a
	// schema registry, the telemetry's schema id is that of its subject.
	if kw, ok := w.(*kafka.Writer); ok {
		h.topic = kw.Topic
	}
	return h
}

// Handle implements consume.Handler. The per-event work shares per-batch
// state: one SnotiEvent and one DeviceTelemetry reused for every event, one
// records.Batch holding every telemetry message, and outcome counts added
// to the counter once per batch.
func (h *Handler) Handle(ctx context.Context, msgs []kafka.Message) []error {
	errs := make([]error, len(msgs))
	out := make([]kafka.Message, 0, len(msgs))
	idx := make([]int, 0, len(msgs))    // out[j] belongs to msgs[idx[j]]
	pks := make([]string, 0, len(msgs)) // and is of product pks[j]
	counts := outcomeCounts{}
	defer counts.addTo(h.outcomes)
	batch := h.codec.NewBatch(len(msgs))
	var e records.SnotiEvent
	var t records.DeviceTelemetry
	var fields []value.Field
	for i, m := range msgs {
		ok, err := h.decode(m, &e, &t, &fields, counts)
		switch {
		case err != nil:
			errs[i] = err
		case ok:
			key := m.Key // the ingest keys events by did: reuse it
			if string(key) != t.DID {
				key = []byte(t.DID)
			}
			msg, err := batch.TelemetryMessage(h.topic, key, &t, fields)
			if err != nil {
				errs[i] = consume.Reject("encode_failed", err)
				continue
			}
			msg.Topic = ""
			out = append(out, msg)
			idx = append(idx, i)
			pks = append(pks, t.ProductKey)
		}
	}
	if len(out) == 0 {
		return errs
	}
	err := h.w.WriteMessages(ctx, out...)
	var werrs kafka.WriteErrors
	for j, i := range idx {
		switch {
		case err == nil:
		case errors.As(err, &werrs) && len(werrs) == len(out):
			if werrs[j] != nil {
				errs[i] = sinkerr.NewRetryable(fmt.Errorf("writing telemetry: %w", werrs[j]), 0)
			}
		default:
			errs[i] = sinkerr.NewRetryable(fmt.Errorf("writing telemetry: %w", err), 0)
		}
		if errs[i] == nil {
			counts.inc(pks[j], "decoded")
		}
	}
	return errs
}

// decode fills t (but its Points) and fields with the telemetry of one
// event read into e and returns true, returns false for an event that
// carries no data points, or a rejection. The points stay typed
// value.Fields, which records.Batch.TelemetryMessage encodes without
// boxing each in an any.
func (h *Handler) decode(m kafka.Message, e *records.SnotiEvent, t *records.DeviceTelemetry, fields *[]value.Field, counts outcomeCounts) (bool, error) {
	if err := h.codec.Unmarshal(m.Value, e); err != nil {
		counts.inc(records.Header(m, "product_key"), "bad_record")
		return false, consume.Reject("bad_record", err)
	}
	var res codecs.Result
	var err error
	switch {
	case e.EventType == "device_status_raw" && e.Raw != nil:
		res, err = h.codecs.Decode(e.ProductKey, e.Raw)
	case e.EventType == "device_status_kv" && e.KV != nil:
		res, err = h.codecs.DecodeKV(e.ProductKey, e.KV)
	default:
		counts.inc(e.ProductKey, "skipped")
		return false, nil
	}
	if err != nil {
		reason := string(codecs.ReasonOf(err))
		counts.inc(e.ProductKey, reason)
		return false, consume.Reject(reason, err)
	}
	*t = records.DeviceTelemetry{
		EventID: e.EventID, ProductKey: e.ProductKey, DID: e.DID, MAC: e.MAC,
		Time: e.CreatedAt, ReceivedAt: e.ReceivedAt, Source: e.EventType,
		Codec: string(res.Source), Kind: kindOf(res),
	}
	*fields = res.Fields
	return true, nil
}

// outcomeCounts counts a batch's outcomes by product and outcome, so the
// counter vector is looked up once per label pair and batch rather than
// once per event.
type outcomeCounts map[[2]string]float64

func (c outcomeCounts) inc(productKey, outcome string) { c[[2]string{productKey, outcome}]++ }

func (c outcomeCounts) addTo(v *prometheus.CounterVec) {
	for k, n := range c {
		v.WithLabelValues(k[0], k[1]).Add(n)
	}
}

func kindOf(res codecs.Result) string {
	if res.Message != "" {
		return res.Message
	}
	switch res.Action {
	case 0x03, 0x13:
		return "read_reply"
	case 0x04, 0x14:
		return "status_report"
	}
	return string(res.Source)
}
