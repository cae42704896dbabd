package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/ingest"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// v1Prefix starts every push the simulator sends over v1.
const v1Prefix = `{"cmd":"enterprise_event_push","delivery_id":`

// isOriginalLine reports whether raw is the simulator's line of event seq
// with fields: its sim_seq right after the ids, and the event's own members
// byte for byte (the simulator writes them after the common ones).
func isOriginalLine(raw string, seq uint64, fields json.RawMessage) bool {
	inner := strings.TrimSpace(string(fields))
	if len(inner) >= 2 {
		inner = strings.TrimSpace(inner[1 : len(inner)-1])
	}
	return strings.Contains(raw, fmt.Sprintf(`,"sim_seq":%d,`, seq)) && strings.Contains(raw, inner) && strings.HasSuffix(raw, "}")
}

const v2Prefix = `{"cmd":"event_push","delivery_id":`

// readEvents reads n records of the events topic, by sim_seq (several per
// seq for duplicates), checking each record's key and event id.
func (h *harness) readEvents(t *testing.T, n int) map[uint64][]records.SnotiEvent {
	t.Helper()
	count := 0
	return h.readEventsUntil(t, func(map[uint64][]records.SnotiEvent) bool { count++; return count == n })
}

// readEventsUntil reads the events topic until done (called after each
// record) holds, failing the test after two minutes.
func (h *harness) readEventsUntil(t *testing.T, done func(map[uint64][]records.SnotiEvent) bool) map[uint64][]records.SnotiEvent {
	t.Helper()
	r := kafkatest.NewReader(t, h.kc.Brokers, h.events)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := map[uint64][]records.SnotiEvent{}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading %s: %v (records so far by seq: %d)", h.events, err, len(out))
		}
		var e records.SnotiEvent
		if err := h.codec.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		seq := simSeq(t, e.RawJSON)
		if string(m.Key) != e.DID {
			t.Errorf("seq %d: key %q, want did %q", seq, m.Key, e.DID)
		}
		if id, err := snoti.EventID([]byte(e.RawJSON)); err != nil || id != e.EventID || records.Header(m, "event_id") != id {
			t.Errorf("seq %d: event_id %s, header %s, want %s (the canonical form of raw_json)", seq, e.EventID, records.Header(m, "event_id"), id)
		}
		out[seq] = append(out[seq], e)
		if done(out) {
			return out
		}
	}
}

// Pushes whose fields have JSON types the typed decoding does not expect
// are pushes all the same: ACKed after their record is durable, kept with
// their line, and more of them in a row than SNOTI_PREFETCH do not stall
// the connection (before, each held a prefetch slot forever).
func TestIngestAcksPushesOfAnyFieldType(t *testing.T) {
	// v2: the simulator pushes v2 event types to v2 queues only, as the
	// real server does.
	h := newHarnessV2(t, kafkatest.Brokers(t))
	h.connections, h.prefetch = 1, 4
	shapes := []struct {
		eventType string
		fields    string
	}{
		{snoti.EventDeviceOnline, `{"ip":"10.0.0.7","latitude":45.764043,"longitude":4.835659,"iccid":89330123456789012345,"imsi":208011234567890}`},
		{"device_weather_v9", `{"source":3,"city":{"name":"Lyon","zip":69001},"level":7.5,"data":{"v":[1,2]}}`},
		{snoti.EventDeviceOnline, `{"ip":null,"country":null,"city":null,"iccid":null,"latitude":null}`},
		{snoti.EventDeviceBind, `{"app_id":null,"uid":{"id":42}}`},
	}
	var evs []snotisim.Event
	odd := 2*h.prefetch + 1
	for i := range odd {
		s := shapes[i%len(shapes)]
		evs = append(evs, snotisim.Event{ProductKey: "sim", EventType: s.eventType, DID: fmt.Sprintf("nb-%d", i%3), FieldsJSON: json.RawMessage(s.fields)})
	}
	evs = append(evs, snotisim.Event{ProductKey: "sim", EventType: snoti.EventDeviceOffline, DID: "nb-0"}) // and the stream goes on
	seqs, err := h.sim.PublishBatch(evs)
	if err != nil {
		t.Fatal(err)
	}
	var m *ingest.Metrics
	h.startInProcess(t, func(o *options) { o.metrics = func(mm *ingest.Metrics) { m = mm } })
	sum := h.waitAcked(t, uint64(len(evs)), 2*time.Minute)
	if sum.Redeliveries != 0 || sum.UnknownAcks != 0 {
		t.Fatalf("ledger %+v: want every push ACKed on the first connection, its id echoed", sum)
	}
	got := h.readEvents(t, len(evs))
	for i, seq := range seqs {
		rs := got[seq]
		if len(rs) != 1 {
			t.Fatalf("seq %d: %d records, want 1", seq, len(rs))
		}
		e := rs[0]
		if !strings.HasPrefix(e.RawJSON, v2Prefix) || !isOriginalLine(e.RawJSON, seq, evs[i].FieldsJSON) {
			t.Errorf("seq %d: raw_json %s: want the original line", seq, e.RawJSON)
		}
		if i >= odd {
			continue
		}
		switch i % len(shapes) {
		case 0:
			if e.Online == nil || e.Online.ICCID == nil || *e.Online.ICCID != "89330123456789012345" || *e.Online.IMSI != "208011234567890" || e.Online.Latitude == nil {
				t.Errorf("seq %d: online %+v: want every digit of iccid and imsi, and the latitude", seq, e.Online)
			}
		case 1:
			if e.Attributes["city"] != `{"name":"Lyon","zip":69001}` || e.Attributes["source"] != "3" || e.Attributes["level"] != "7.5" {
				t.Errorf("seq %d: attributes %v: want the unknown type's fields as text", seq, e.Attributes)
			}
		case 3:
			if e.Attributes["uid"] != `{"id":42}` {
				t.Errorf("seq %d: attributes %v", seq, e.Attributes)
			}
		}
	}
	if n := testutil.CollectAndCount(m.Quarantined); n != 0 {
		t.Errorf("%d invalid-line series: none of these pushes is invalid", n)
	}
}

// dropOnce drops the simulator's connections right after the first write
// that holds seq succeeded: the pipeline then ACKs on a dead connection,
// and SNoti redelivers the push under a new delivery id.
type dropOnce struct {
	inner ingest.Writer
	codec *records.Codec
	sim   *snotisim.Server
	seq   uint64
	once  sync.Once
}

func (d *dropOnce) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	err := d.inner.WriteMessages(ctx, msgs...)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		var e records.SnotiEvent
		if d.codec.Unmarshal(m.Value, &e) == nil && strings.Contains(e.RawJSON, fmt.Sprintf(`"sim_seq":%d,`, d.seq)) {
			d.once.Do(func() { d.sim.DropConnections() })
		}
	}
	return nil
}

// Events that SNoti sends with the same device, type and second, differing
// only outside data (a bind's uid, an added child's did), are two records
// with two ids; a redelivered push keeps its id.
func TestIngestDistinctEventsDistinctIDsRedeliveryKeepsIt(t *testing.T) {
	h := newHarnessV2(t, kafkatest.Brokers(t)) // bind and sub-device events are v2 types
	h.connections = 1
	second := time.Unix(1700000000, 0)
	evs := []snotisim.Event{
		{ProductKey: "sim", EventType: snoti.EventDeviceBind, DID: "dev-b", CreatedAt: second, FieldsJSON: json.RawMessage(`{"app_id":"app1","uid":"u1"}`)},
		{ProductKey: "sim", EventType: snoti.EventDeviceBind, DID: "dev-b", CreatedAt: second, FieldsJSON: json.RawMessage(`{"app_id":"app1","uid":"u2"}`)},
		{ProductKey: "sim", EventType: snoti.EventSubDeviceAdded, DID: "gw-1", CreatedAt: second, FieldsJSON: json.RawMessage(`{"child_product_key":"cpk","child_did":"c1","child_mac":"m1"}`)},
		{ProductKey: "sim", EventType: snoti.EventSubDeviceAdded, DID: "gw-1", CreatedAt: second, FieldsJSON: json.RawMessage(`{"child_product_key":"cpk","child_did":"c2","child_mac":"m2"}`)},
	}
	seqs, err := h.sim.PublishBatch(evs)
	if err != nil {
		t.Fatal(err)
	}
	drop := &dropOnce{codec: h.codec, sim: h.sim, seq: seqs[0]}
	h.startInProcess(t, func(o *options) {
		o.wrapWriter = func(w ingest.Writer) ingest.Writer { drop.inner = w; return drop }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := h.sim.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks >= uint64(len(evs)) && s.Redeliveries >= 1 })
	if err != nil {
		t.Fatalf("waiting for the redelivered pushes to be ACKed: %v (ledger %+v)", err, h.sim.Summary())
	}
	// The first write's records are in Kafka, their ACKs were lost with
	// the connection: each redelivered push was written again.
	got := h.readEventsUntil(t, func(got map[uint64][]records.SnotiEvent) bool {
		for _, seq := range seqs {
			if len(got[seq]) == 0 {
				return false
			}
		}
		return len(got[seqs[0]]) >= 2
	})
	ids := map[string]uint64{}
	for i, seq := range seqs {
		rs := got[seq]
		if len(rs) == 0 {
			t.Fatalf("seq %d (%s) missing", seq, evs[i].EventType)
		}
		for _, r := range rs[1:] {
			if r.EventID != rs[0].EventID {
				t.Errorf("seq %d: redelivery changed the event id from %s to %s", seq, rs[0].EventID, r.EventID)
			}
		}
		if other, dup := ids[rs[0].EventID]; dup {
			t.Errorf("seq %d and %d share event id %s", seq, other, rs[0].EventID)
		}
		ids[rs[0].EventID] = seq
		// Not only sim_seq tells them apart: the ids cover uid and child_did.
		without, _ := snoti.Canonical([]byte(rs[0].RawJSON), "delivery_id", "msg_id", "sim_seq")
		if i%2 == 1 {
			prev, _ := snoti.Canonical([]byte(got[seqs[i-1]][0].RawJSON), "delivery_id", "msg_id", "sim_seq")
			if bytes.Equal(without, prev) {
				t.Errorf("seq %d and %d are the same event apart from sim_seq", seqs[i-1], seq)
			}
		}
	}
	if len(got[seqs[0]]) < 2 {
		t.Errorf("seq %d: %d records, want the first write and the redelivery's", seqs[0], len(got[seqs[0]]))
	}
	t.Logf("%d events, %d redeliveries, %d distinct ids", len(evs), sum.Redeliveries, len(ids))
}

// randomBase64 is n bytes of incompressible text (Snappy cannot shrink it).
func randomBase64(n int) string {
	b := make([]byte, n*3/4+3)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)[:n]
}

// A push too large for its topic is a bad record, not an outage: it is
// quarantined with the reason (its whole line, or a reference when even
// the invalid topic cannot hold that), ACKed, and the next push flows.
// The same holds for a push over the line limit.
func TestIngestQuarantinesOversizedPushesAndGoesOn(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	h := newHarness(t, brokers, snotisim.Fleet{})
	h.connections = 1
	h.events = kafkatest.Topic(t, brokers, 3, kafka.ConfigEntry{ConfigName: kafkaconf.MaxMessageBytesKey, ConfigValue: "1048576"})
	h.invald = kafkatest.Topic(t, brokers, 1, kafka.ConfigEntry{ConfigName: kafkaconf.MaxMessageBytesKey, ConfigValue: "2097152"})
	kv := func(did string, n int) snotisim.Event {
		return snotisim.Event{ProductKey: "sim", EventType: snoti.EventDeviceStatusKV, DID: did,
			FieldsJSON: json.RawMessage(`{"data":{"blob":"` + randomBase64(n) + `"}}`)}
	}
	small := func(did string) snotisim.Event {
		return snotisim.Event{ProductKey: "sim", EventType: snoti.EventDeviceStatusKV, DID: did, FieldsJSON: json.RawMessage(`{"data":{"on":1}}`)}
	}
	evs := []snotisim.Event{
		small("dev-1"),
		kv("dev-1", 1536<<10), // record ~3 MiB > 1 MiB: whole line (1.5 MiB) quarantined
		small("dev-1"),
		kv("dev-2", 2560<<10), // line 2.5 MiB > the invalid topic's 2 MiB: a reference
		small("dev-2"),
		kv("dev-3", 5<<20), // over SNOTI_MAX_LINE_BYTES (4 MiB): too_long, its start kept
		small("dev-3"),
	}
	seqs, err := h.sim.PublishBatch(evs)
	if err != nil {
		t.Fatal(err)
	}
	var m *ingest.Metrics
	h.startInProcess(t, func(o *options) { o.metrics = func(mm *ingest.Metrics) { m = mm } })
	sum := h.waitAcked(t, uint64(len(evs)), 3*time.Minute)
	if sum.Redeliveries != 0 || sum.UnknownAcks != 0 {
		t.Fatalf("ledger %+v: want every push ACKed once, on one connection", sum)
	}
	got := h.readEvents(t, 4)
	for _, i := range []int{0, 2, 4, 6} {
		if len(got[seqs[i]]) != 1 {
			t.Errorf("small push seq %d: %d records in the events topic, want 1", seqs[i], len(got[seqs[i]]))
		}
	}
	dls := map[uint64]records.DeadLetter{}
	for _, m := range kafkatest.ReadN(t, brokers, h.invald, 3, 2*time.Minute) {
		var dl records.DeadLetter
		if err := h.codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Contains(dl.Value, []byte(`"did":"dev-1"`)):
			dls[seqs[1]] = dl
		case bytes.Contains(dl.Value, []byte(`"did":"dev-2"`)):
			dls[seqs[3]] = dl
		default:
			dls[seqs[5]] = dl
		}
	}
	whole := dls[seqs[1]]
	if whole.Reason != "record_too_large" || !bytes.HasPrefix(whole.Value, []byte(v1Prefix)) ||
		!isOriginalLine(string(whole.Value), seqs[1], evs[1].FieldsJSON) || whole.EventID == nil {
		t.Errorf("1.5 MiB push: dead letter %s (%s), %d bytes: want record_too_large with the whole line", whole.Reason, whole.Error, len(whole.Value))
	} else if id, _ := snoti.EventID(whole.Value); *whole.EventID != id {
		t.Errorf("1.5 MiB push: dead letter event id %s, want %s", *whole.EventID, id)
	}
	ref := dls[seqs[3]]
	if ref.Reason != "record_too_large" || len(ref.Value) != ingest.ReferencePrefixBytes || ref.Headers["line_sha256"] == "" ||
		ref.Headers["kept_bytes"] != fmt.Sprint(ingest.ReferencePrefixBytes) || !strings.Contains(ref.Error, "too large even for") {
		t.Errorf("2.5 MiB push: dead letter %s (%s) %d bytes, headers %v: want a reference", ref.Reason, ref.Error, len(ref.Value), ref.Headers)
	}
	long := dls[seqs[5]]
	if long.Reason != snoti.InvalidTooLong || len(long.Value) != 64<<10 || long.Headers["delivery_id"] == "" || !bytes.HasPrefix(long.Value, []byte(v1Prefix)) {
		t.Errorf("5 MiB push: dead letter %s (%s) %d bytes, headers %v: want too_long with its start and delivery id", long.Reason, long.Error, len(long.Value), long.Headers)
	}
	if n := testutil.ToFloat64(m.Quarantined.WithLabelValues("record_too_large")); n != 2 {
		t.Errorf("ingest_invalid_lines_total{reason=record_too_large} = %v, want 2", n)
	}
}

// The ingest reads the topics' max.message.bytes at start, lets its writer
// take records as large as they allow, and warns when the events topic
// cannot hold a record of a push at the line limit.
func TestCheckTopicsReadsMaxMessageBytes(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	h := newHarness(t, brokers, snotisim.Fleet{})
	h.events = kafkatest.Topic(t, brokers, 1, kafka.ConfigEntry{ConfigName: kafkaconf.MaxMessageBytesKey, ConfigValue: "1048576"})
	h.invald = kafkatest.Topic(t, brokers, 1, kafka.ConfigEntry{ConfigName: kafkaconf.MaxMessageBytesKey, ConfigValue: "12582912"})
	var logs bytes.Buffer
	cfg := h.config()
	cfg.MaxLineBytes = snoti.DefaultMaxLineBytes
	got, _, err := checkTopics(context.Background(), kafkaClient(t, cfg), cfg, zerolog.New(&logs))
	if err != nil || got != 12<<20 {
		t.Fatalf("checkTopics = %d, %v: want the larger limit, 12 MiB", got, err)
	}
	if !strings.Contains(logs.String(), "below twice SNOTI_MAX_LINE_BYTES") {
		t.Errorf("no warning about a 1 MiB events topic with 4 MiB lines; logs:\n%s", logs.String())
	}
	logs.Reset()
	cfg.TopicEvents = h.invald
	if _, _, err := checkTopics(context.Background(), kafkaClient(t, cfg), cfg, zerolog.New(&logs)); err != nil || logs.Len() != 0 {
		t.Errorf("12 MiB events topic: err %v, logs %s: want no warning", err, logs.String())
	}
}
