package enosfwd_test

import (
	"context"
	"errors"
	"math"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

const testMapping = `{
	"products": {
		"pk-ev": {"enos_product_key": "EV", "points": {"voltage": "Voltage", "session_id": ""}},
		"pk-meter": {"enos_product_key": "METER", "device_key": "mac", "unmapped_points": "drop", "points": {"energy": "Energy"},
		             "fault_event": "MeterFault", "alert_event": "", "online": {"send": "event", "id": "Online"}, "offline": {"send": "none"}},
		"pk-asset": {"device_key": "asset", "assets": {"did-1": "asset-1"}}
	}
}`

var (
	t0    = time.Date(2026, 11, 22, 4, 0, 0, 123_000_000, time.UTC)
	codec = mustCodec()
)

func mustCodec() *records.Codec {
	c, err := records.NewCodec()
	if err != nil {
		panic(err)
	}
	return c
}

func telemetry(t testing.TB, pk, did, mac string, at time.Time, points ...records.DataPoint) kafka.Message {
	t.Helper()
	m, err := codec.Message("device.telemetry.v1", []byte(did), &records.DeviceTelemetry{
		EventID: "ev-" + did + at.String(), ProductKey: pk, DID: did, MAC: mac, Time: at, ReceivedAt: at,
		Source: "device_status_raw", Codec: "standard", Kind: "status_report", Points: points,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func event(t testing.TB, pk, did, mac, typ string, at time.Time, attr *records.AttrEvent) kafka.Message {
	t.Helper()
	m, err := codec.Message("snoti.events.v1", []byte(did), &records.SnotiEvent{
		EventID: "ev-" + typ + did, EventType: typ, ProductKey: pk, DID: did, MAC: mac, CreatedAt: at, ReceivedAt: at,
		Protocol: "v1", DeliveryID: "1", Attr: attr, RawJSON: "{}",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeEnOS records what it is asked to post and answers with the errors
// set for the next calls.
type fakeEnOS struct {
	mu       sync.Mutex
	points   []enos.MeasurepointEntry
	events   []enos.EventEntry
	attrs    []enos.AttributeEntry
	backfill []bool // per call
	calls    []string
	fail     func(kind string, i int) error
}

func (f *fakeEnOS) result(kind string, n int, opts []enos.SendOption) enos.Result {
	f.calls = append(f.calls, kind)
	f.backfill = append(f.backfill, len(opts) > 0)
	res := enos.Result{Errs: make([]error, n)}
	if f.fail != nil {
		for i := range res.Errs {
			res.Errs[i] = f.fail(kind, i)
		}
	}
	return res
}

func (f *fakeEnOS) PostMeasurepoints(_ context.Context, e []enos.MeasurepointEntry, opts ...enos.SendOption) enos.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.points = append(f.points, e...)
	return f.result("measurepoint", len(e), opts)
}

func (f *fakeEnOS) PostEvents(_ context.Context, e []enos.EventEntry, opts ...enos.SendOption) enos.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e...)
	return f.result("event", len(e), opts)
}

func (f *fakeEnOS) PostAttributes(_ context.Context, e []enos.AttributeEntry, opts ...enos.SendOption) enos.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attrs = append(f.attrs, e...)
	return f.result("attribute", len(e), opts)
}

func newHandler(t testing.TB, client enosfwd.Poster, opts enosfwd.Options) (*enosfwd.Handler, *prometheus.Registry) {
	t.Helper()
	m, err := enosfwd.ParseMapping("test.json", []byte(testMapping))
	if err != nil {
		t.Fatal(err)
	}
	opts.Mapping = m
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0.Add(time.Minute) }
	}
	reg := prometheus.NewRegistry()
	h, err := enosfwd.NewHandler(enosfwd.Config{BackfillAge: time.Hour}, client, opts, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return h, reg
}

func TestHandlerMapsRecords(t *testing.T) {
	fake := &fakeEnOS{}
	h, reg := newHandler(t, fake, enosfwd.Options{})
	msgs := []kafka.Message{
		0:  telemetry(t, "pk-ev", "d1", "m1", t0, records.DataPoint{Name: "voltage", Value: 230.5}, records.DataPoint{Name: "state", Value: "charging"}, records.DataPoint{Name: "session_id", Value: "00ff"}),
		1:  telemetry(t, "pk-meter", "d2", "m2", t0, records.DataPoint{Name: "energy", Value: int64(42)}, records.DataPoint{Name: "other", Value: true}),
		2:  telemetry(t, "pk-meter", "d3", "m3", t0, records.DataPoint{Name: "other", Value: math.NaN()}), // nothing left: done
		3:  telemetry(t, "pk-unknown", "d4", "m4", t0, records.DataPoint{Name: "x", Value: 1.0}),
		4:  telemetry(t, "pk-meter", "d5", "", t0, records.DataPoint{Name: "energy", Value: 1.0}), // by mac, no mac
		5:  telemetry(t, "pk-asset", "did-1", "", t0, records.DataPoint{Name: "p", Value: 1.0}),
		6:  telemetry(t, "pk-asset", "did-2", "", t0, records.DataPoint{Name: "p", Value: 1.0}),
		7:  event(t, "pk-ev", "d1", "m1", "attr_fault", t0, &records.AttrEvent{Name: "fault_ground", Value: 1}),
		8:  event(t, "pk-meter", "d2", "m2", "attr_fault", t0, &records.AttrEvent{Name: "fault_x", Value: 0}),
		9:  event(t, "pk-meter", "d2", "m2", "attr_alert", t0, &records.AttrEvent{Name: "alert_x", Value: 1}), // alert_event "": done
		10: event(t, "pk-ev", "d1", "m1", "device_online", t0, nil),
		11: event(t, "pk-ev", "d1", "m1", "device_offline", t0, nil),
		12: event(t, "pk-meter", "d2", "m2", "device_online", t0, nil),
		13: event(t, "pk-meter", "d2", "m2", "device_offline", t0, nil), // offline none: done
		14: event(t, "pk-ev", "d1", "m1", "device_status_raw", t0, nil), // via telemetry: done
		15: event(t, "pk-unknown", "d1", "m1", "device_status_kv", t0, nil),
		16: event(t, "pk-ev", "d1", "m1", "attr_alert", t0, nil), // no attr
		17: {Topic: "device.telemetry.v1", Value: []byte("not avro")},
		// A status event is skipped on its headers, without decoding.
		18: {Topic: "snoti.events.v1", Value: []byte("not decoded"), Headers: []kafka.Header{{Key: "event_type", Value: []byte("device_status_raw")}, {Key: "schema", Value: []byte("SnotiEvent.v1")}}},
		19: telemetry(t, "pk-ev", "d9", "", time.Time{}, records.DataPoint{Name: "voltage", Value: 1.0}),
	}
	errs := h.Handle(context.Background(), msgs)
	wantReason := map[int]string{3: "no_mapping", 4: "no_mapping", 6: "no_mapping", 16: "bad_record", 17: "bad_record", 19: "bad_record"}
	for i, err := range errs {
		if want, ok := wantReason[i]; ok {
			if !sinkerr.IsPermanent(err) || consume.ReasonOf(err) != want {
				t.Errorf("msg %d: %v, want a permanent %s rejection", i, err, want)
			}
		} else if err != nil {
			t.Errorf("msg %d: %v, want done", i, err)
		}
	}

	wantPoints := []enos.MeasurepointEntry{
		{Device: enos.Device{ProductKey: "EV", DeviceKey: "d1"}, Time: t0, Measurepoints: map[string]any{"Voltage": 230.5, "state": "charging"}},
		{Device: enos.Device{ProductKey: "METER", DeviceKey: "m2"}, Time: t0, Measurepoints: map[string]any{"Energy": int64(42)}},
		{Device: enos.Device{AssetID: "asset-1"}, Time: t0, Measurepoints: map[string]any{"p": 1.0}},
	}
	if len(fake.points) != len(wantPoints) {
		t.Fatalf("posted %d measurepoint entries, want %d: %+v", len(fake.points), len(wantPoints), fake.points)
	}
	for i, want := range wantPoints {
		got := fake.points[i]
		gotPoints := pointsMap(t, got)
		if got.Device != want.Device || !got.Time.Equal(want.Time) || len(gotPoints) != len(want.Measurepoints) {
			t.Errorf("entry %d = %+v, want %+v", i, got, want)
		}
		for k, v := range want.Measurepoints {
			if gotPoints[k] != v {
				t.Errorf("entry %d point %s = %v (%T), want %v (%T)", i, k, gotPoints[k], gotPoints[k], v, v)
			}
		}
	}
	wantEvents := map[string]map[string]any{
		"attr_fault": {"value": int64(1), "attr_name": "fault_ground"},
		"MeterFault": {"value": int64(0), "attr_name": "fault_x"},
		"Online":     {"online": true},
	}
	if len(fake.events) != len(wantEvents) {
		t.Fatalf("posted %d events, want %d: %+v", len(fake.events), len(wantEvents), fake.events)
	}
	for _, e := range fake.events {
		for id, params := range e.Events {
			want, ok := wantEvents[id]
			if !ok || len(params) != len(want) || !e.Time.Equal(t0) {
				t.Errorf("unexpected event %s %v at %s", id, params, e.Time)
				continue
			}
			for k, v := range want {
				if params[k] != v {
					t.Errorf("event %s param %s = %v, want %v", id, k, params[k], v)
				}
			}
		}
	}
	if len(fake.attrs) != 2 || fake.attrs[0].Attributes["online"] != true || fake.attrs[1].Attributes["online"] != false {
		t.Errorf("attributes = %+v, want online true then false", fake.attrs)
	}
	if got := testutil.ToFloat64(counter(t, reg, "enos_forwarder_points_total", "realtime")); got != 4 {
		t.Errorf("points_total{realtime} = %v, want 4", got)
	}
}

// counter finds a counter of reg by name and label values.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i, l := range m.GetLabel() {
				if i >= len(labels) || l.GetValue() != labels[i] {
					continue metric
				}
			}
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, func() float64 { return m.GetCounter().GetValue() })
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return nil
}

func TestHandlerBackfill(t *testing.T) {
	tests := []struct {
		name         string
		replay       bool
		ctx          context.Context
		age          time.Duration
		wantBackfill bool
	}{
		{name: "recent", age: time.Minute},
		{name: "older than ENOS_BACKFILL_AGE", age: 2 * time.Hour, wantBackfill: true},
		{name: "replay", replay: true, age: time.Second, wantBackfill: true},
		{name: "replay context", ctx: consume.WithReplay(context.Background()), age: time.Second, wantBackfill: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeEnOS{}
			at := t0.Add(-tt.age)
			h, _ := newHandler(t, fake, enosfwd.Options{Replay: tt.replay, Now: func() time.Time { return t0 }})
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			errs := h.Handle(ctx, []kafka.Message{
				telemetry(t, "pk-ev", "d1", "m1", at, records.DataPoint{Name: "voltage", Value: 1.0}),
				event(t, "pk-ev", "d1", "m1", "attr_fault", at, &records.AttrEvent{Name: "f", Value: 1}),
			})
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if len(fake.backfill) != 2 || fake.backfill[0] != tt.wantBackfill || fake.backfill[1] != tt.wantBackfill {
				t.Errorf("backfill per call = %v, want %v", fake.backfill, tt.wantBackfill)
			}
		})
	}
}

func TestHandlerSinkFailures(t *testing.T) {
	down := sinkerr.NewRetryable(errors.New("503"), time.Second)
	bad := sinkerr.NewPermanent(errors.New("code 1100"))
	fake := &fakeEnOS{fail: func(kind string, i int) error {
		switch {
		case kind == "measurepoint" && i == 0:
			return bad
		case kind == "measurepoint" && i == 2:
			return down
		}
		return nil
	}}
	h, _ := newHandler(t, fake, enosfwd.Options{})
	msgs := []kafka.Message{
		telemetry(t, "pk-ev", "d1", "", t0, records.DataPoint{Name: "voltage", Value: 1.0}),
		telemetry(t, "pk-ev", "d2", "", t0, records.DataPoint{Name: "voltage", Value: 1.0}),
		telemetry(t, "pk-ev", "d3", "", t0, records.DataPoint{Name: "voltage", Value: 1.0}),
		event(t, "pk-ev", "d1", "", "attr_fault", t0, &records.AttrEvent{Name: "f", Value: 1}),
	}
	errs := h.Handle(context.Background(), msgs)
	if !sinkerr.IsPermanent(errs[0]) || consume.ReasonOf(errs[0]) != "enos_rejected" {
		t.Errorf("rejected entry: %v, want enos_rejected", errs[0])
	}
	if errs[1] != nil {
		t.Errorf("accepted entry: %v", errs[1])
	}
	for _, i := range []int{2, 3} {
		if ra, ok := sinkerr.Retryable(errs[i]); !ok || ra != time.Second {
			t.Errorf("msg %d: %v, want the retryable error with its Retry-After", i, errs[i])
		}
	}
	if len(fake.calls) != 1 {
		t.Errorf("calls = %v: after EnOS failed, the events must not be posted", fake.calls)
	}
	if err := h.Ready(context.Background()); err != nil {
		t.Errorf("Ready right after a failure = %v, want nil", err)
	}
}

// Against the EnOS emulator with the real client: what arrives is what the
// records said, in milliseconds.
func TestHandlerIntoEmulator(t *testing.T) {
	sim, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := enos.New(enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "ak", SecretKey: "sk", OrgID: "org"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, client, enosfwd.Options{})
	old := t0.Add(-3 * time.Hour)
	errs := h.Handle(context.Background(), []kafka.Message{
		telemetry(t, "pk-ev", "d1", "m1", t0, records.DataPoint{Name: "voltage", Value: 230.5}),
		telemetry(t, "pk-ev", "d1", "m1", old, records.DataPoint{Name: "voltage", Value: 229.0}),
		event(t, "pk-ev", "d1", "m1", "attr_alert", t0, &records.AttrEvent{Name: "alert_overtemp", Value: 1}),
		event(t, "pk-ev", "d1", "m1", "device_offline", t0, nil),
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	pts := sim.Points()
	if len(pts) != 2 {
		t.Fatalf("points = %+v, want 2", pts)
	}
	for _, p := range pts {
		if p.ProductKey != "EV" || p.DeviceKey != "d1" || p.PointID != "Voltage" {
			t.Errorf("point %+v: want EV/d1 Voltage", p)
		}
		switch p.Time {
		case t0.UnixMilli():
			if p.Value != 230.5 || !p.Realtime {
				t.Errorf("recent point %+v: want 230.5, realtime", p)
			}
		case old.UnixMilli():
			if p.Value != 229.0 || p.Realtime {
				t.Errorf("old point %+v: want 229, backfill", p)
			}
		default:
			t.Errorf("point time %d: want %d or %d", p.Time, t0.UnixMilli(), old.UnixMilli())
		}
	}
	evs := sim.Events()
	if len(evs) != 1 || evs[0].EventID != "attr_alert" || evs[0].Params["attr_name"] != "alert_overtemp" || evs[0].Params["value"] != 1.0 || evs[0].Time != t0.UnixMilli() {
		t.Errorf("events = %+v", evs)
	}
	attrs := sim.Attributes()
	if len(attrs) != 1 || attrs[0].Name != "online" || attrs[0].Value != false {
		t.Errorf("attributes = %+v", attrs)
	}
}

// pointsMap returns the measurement points of e as a map, and fails
// unless they are given as Points sorted by id without repeats, as the
// handler builds them (enos.SortPoints), in place of a map per record.
func pointsMap(t *testing.T, e enos.MeasurepointEntry) map[string]any {
	t.Helper()
	if e.Measurepoints != nil {
		t.Fatalf("entry %+v: a map of points, want Points", e)
	}
	m := map[string]any{}
	for i, p := range e.Points {
		if i > 0 && e.Points[i-1].ID >= p.ID {
			t.Fatalf("entry %+v: Points not sorted by id without repeats", e)
		}
		m[p.ID] = p.Value
	}
	return m
}
