package main

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

const testMapping = `{
	"products": {
		"pk-ev":  {"enos_product_key": "EV", "points": {"voltage": "Voltage", "session_id": ""}},
		"pk-bad": {"enos_product_key": "NOT_IN_ENOS"}
	}
}`

// point is one measurement point value as EnOS should receive it.
type point struct {
	device, id string
	time       int64
}

// fleet is generated traffic and the points it must produce at EnOS.
type fleet struct {
	recs   []records.Record
	points map[point]any
	events int // attr_fault events to arrive
	attrs  int // online attributes to arrive
}

// newFleet makes perDevice telemetry records (voltage, state, plug, and a
// dropped session_id) for each device of product pk, one fault, one online
// and one offline event per device, and a status event EnOS takes nothing
// from. Record times are in the past by age, a millisecond apart.
func newFleet(pk, enosPK string, devices, perDevice int, age time.Duration) fleet {
	f := fleet{points: map[point]any{}}
	base := time.Now().Add(-age).Truncate(time.Millisecond)
	tag := base.UnixNano() // event ids unique per fleet, or the runner drops them as duplicates
	for d := range devices {
		did := fmt.Sprintf("%s-dev-%03d", pk, d)
		for i := range perDevice {
			at := base.Add(time.Duration(i*devices+d) * time.Millisecond)
			v := 220 + float64(i)/8
			state := []string{"idle", "charging", "finished"}[i%3]
			plug := i%2 == 0
			f.recs = append(f.recs, &records.DeviceTelemetry{
				EventID: fmt.Sprintf("tel-%d-%s-%d", tag, did, i), ProductKey: pk, DID: did, MAC: "mac-" + did,
				Time: at, ReceivedAt: at, Source: "device_status_raw", Codec: "standard", Kind: "status_report",
				Points: []records.DataPoint{{Name: "voltage", Value: v}, {Name: "state", Value: state}, {Name: "plug", Value: plug}, {Name: "session_id", Value: "00ff"}},
			})
			dev := enosPK + "/" + did
			f.points[point{dev, "Voltage", at.UnixMilli()}] = v
			f.points[point{dev, "state", at.UnixMilli()}] = state
			f.points[point{dev, "plug", at.UnixMilli()}] = plug
		}
		for j, typ := range []string{"attr_fault", "device_online", "device_offline", "device_status_raw"} {
			e := &records.SnotiEvent{
				EventID: fmt.Sprintf("evt-%d-%s-%s", tag, did, typ), EventType: typ, ProductKey: pk, DID: did, MAC: "mac-" + did,
				CreatedAt: base.Add(time.Duration(j) * time.Millisecond), ReceivedAt: base, Protocol: "v1", DeliveryID: "1", RawJSON: "{}",
			}
			if typ == "attr_fault" {
				e.Attr = &records.AttrEvent{Name: "fault_ground", DisplayName: "Ground fault", Value: 1}
			}
			if typ == "device_status_raw" {
				e.Raw = []byte{0, 1, 2}
			}
			f.recs = append(f.recs, e)
		}
		f.events++
		f.attrs += 2
	}
	return f
}

// checkPoints asserts that every expected point arrived with its value
// (and nothing else of the fleet's devices), allowing duplicates only if
// dups is set, and returns how many arrived in all.
func checkPoints(t *testing.T, sim *sinksim.EnOS, want map[point]any, dups bool, realtime bool) int {
	t.Helper()
	got := map[point]int{}
	n := 0
	for _, p := range sim.Points() {
		k := point{p.ProductKey + "/" + p.DeviceKey, p.PointID, p.Time}
		v, ok := want[k]
		if !ok {
			continue
		}
		n++
		got[k]++
		if p.Value != v {
			t.Errorf("point %+v = %v (%T), want %v (%T)", k, p.Value, p.Value, v, v)
		}
		if p.Realtime != realtime {
			t.Errorf("point %+v realtime=%v, want %v", k, p.Realtime, realtime)
		}
	}
	missing := 0
	for k := range want {
		switch c := got[k]; {
		case c == 0:
			missing++
			if missing <= 5 {
				t.Errorf("point %+v never arrived", k)
			}
		case c > 1 && !dups:
			t.Errorf("point %+v arrived %d times", k, c)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d points lost", missing, len(want))
	}
	return n
}

func waitPoints(t testing.TB, sim *sinksim.EnOS, want map[point]any, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := sim.WaitFor(ctx, func(e *sinksim.EnOS) bool {
		// The cheap count first: the full scan only once enough arrived.
		if e.Stats().Points < len(want) {
			return false
		}
		seen := map[point]bool{}
		for _, p := range e.Points() {
			k := point{p.ProductKey + "/" + p.DeviceKey, p.PointID, p.Time}
			if _, ok := want[k]; ok {
				seen[k] = true
			}
		}
		return len(seen) == len(want)
	})
	if err != nil {
		t.Fatalf("waiting for %d distinct points (emulator has %d points in all): %v", len(want), sim.Stats().Points, err)
	}
}

func TestForwarderDeliversEveryPoint(t *testing.T) {
	h := newHarness(t, testMapping, sinksim.EnOSConfig{})
	live := newFleet("pk-ev", "EV", 20, 25, time.Second)
	old := newFleet("pk-ev", "EV", 3, 4, 3*time.Hour) // older than ENOS_BACKFILL_AGE
	h.startInProcess(t)
	h.produce(t, live.recs...)
	h.produce(t, old.recs...)

	waitPoints(t, h.sim, live.points, time.Minute)
	waitPoints(t, h.sim, old.points, time.Minute)
	h.waitCommitted(t, time.Minute)
	checkPoints(t, h.sim, live.points, false, true)
	checkPoints(t, h.sim, old.points, false, false)

	wantEvents, wantAttrs := live.events+old.events, live.attrs+old.attrs
	if evs := h.sim.Events(); len(evs) != wantEvents {
		t.Errorf("%d events arrived, want %d", len(evs), wantEvents)
	} else {
		for _, e := range evs {
			if e.EventID != "attr_fault" || e.Params["attr_name"] != "fault_ground" || e.Params["value"] != 1.0 || e.ProductKey != "EV" {
				t.Errorf("event %+v: want attr_fault {value 1, attr_name fault_ground} of EV", e)
			}
		}
	}
	online := map[string][]any{}
	for _, a := range h.sim.Attributes() {
		if a.Name != "online" {
			t.Errorf("attribute %+v: want online", a)
		}
		dev := fmt.Sprintf("%s (realtime %v)", a.DeviceKey, a.Realtime)
		online[dev] = append(online[dev], a.Value)
	}
	if n := len(h.sim.Attributes()); n != wantAttrs {
		t.Errorf("%d attributes arrived, want %d", n, wantAttrs)
	}
	for dev, vals := range online {
		if len(vals) != 2 || vals[0] != true || vals[1] != false {
			t.Errorf("device %s online attribute went %v, want [true false]", dev, vals)
		}
	}
	if n := h.topicCount(t, h.dlq); n != 0 {
		t.Errorf("%d dead letters, want 0", n)
	}
}

func TestForwarderHoldsThroughOutage(t *testing.T) {
	h := newHarness(t, testMapping, sinksim.EnOSConfig{})
	f := newFleet("pk-ev", "EV", 10, 30, time.Second)
	// EnOS answers 503 with Retry-After 1s until the test clears the fault.
	if err := h.sim.Faults().Set(sinksim.FaultConfig{Status: 503, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	h.startInProcess(t)
	h.produce(t, f.recs...)
	testkit.Eventually(t, time.Minute, "EnOS refusing a first request", func() bool { return h.sim.Faults().Injected() > 0 })
	start := time.Now()

	// A sustained outage: four refusals, of two attempts at least (an
	// attempt posts a batch's kinds at once, up to ENOS_CONCURRENCY
	// requests), a Retry-After apart.
	const refusals = 4
	testkit.Eventually(t, time.Minute, "EnOS refusing requests", func() bool { return h.sim.Faults().Injected() >= refusals })
	if n := h.sim.Stats().Points; n != 0 {
		t.Fatalf("%d points accepted while EnOS was down", n)
	}
	h.sim.Faults().Clear()
	injected, outage := h.sim.Faults().Injected(), time.Since(start)

	waitPoints(t, h.sim, f.points, 2*time.Minute)
	h.waitCommitted(t, time.Minute)
	checkPoints(t, h.sim, f.points, true, true)
	if n := h.topicCount(t, h.dlq); n != 0 {
		t.Errorf("%d dead letters after a sink outage, want 0", n)
	}
	// Held, not hammered: the forwarder honoured Retry-After (1s), so from
	// the first refusal on it cannot have made more than one attempt per
	// second, the first and the one in flight when the fault was cleared,
	// each of at most ENOS_CONCURRENCY requests.
	if most := (int(outage/time.Second) + 2) * h.concurrency; injected > most {
		t.Errorf("%d requests refused in %s, want at most %d: Retry-After not honoured", injected, outage.Round(time.Millisecond), most)
	}
	t.Logf("outage: %d requests refused, %d points delivered after recovery, 0 lost, 0 dead letters", injected, len(f.points))
}

func TestForwarderBadMappingDeadLettersOnlyThatProduct(t *testing.T) {
	good := newFleet("pk-ev", "EV", 8, 20, time.Second)
	bad := newFleet("pk-bad", "NOT_IN_ENOS", 2, 5, time.Second)
	unmapped := newFleet("pk-unmapped", "", 1, 3, time.Second)
	// EnOS knows only the good product's devices: the bad product's mapping
	// names a productKey it rejects (code 1100), whole messages at a time.
	var known []sinksim.EnOSDevice
	for k := range good.points {
		known = append(known, sinksim.EnOSDevice{ProductKey: "EV", DeviceKey: k.device[len("EV/"):]})
	}
	h := newHarness(t, testMapping, sinksim.EnOSConfig{KnownDevices: known})
	h.startInProcess(t)
	// Interleave the products so bad records share batches and messages
	// with good ones.
	var recs []records.Record
	for i := range max(len(good.recs), len(bad.recs), len(unmapped.recs)) {
		for _, f := range []fleet{good, bad, unmapped} {
			if i < len(f.recs) {
				recs = append(recs, f.recs[i])
			}
		}
	}
	h.produce(t, recs...)

	waitPoints(t, h.sim, good.points, time.Minute)
	h.waitCommitted(t, time.Minute)
	checkPoints(t, h.sim, good.points, false, true)
	if evs := h.sim.Events(); len(evs) != good.events {
		t.Errorf("%d events arrived, want the good product's %d", len(evs), good.events)
	}

	// Every record of the bad and unmapped products that EnOS would take
	// (telemetry, fault, online, offline: not the status event, which
	// reaches EnOS as telemetry) is in the DLQ, with its reason; nothing of
	// the good product.
	perDevice := func(f fleet, devices int) int { return len(f.recs)/devices - 1 }
	wantBad, wantUnmapped := 2*perDevice(bad, 2), perDevice(unmapped, 1)
	n := h.topicCount(t, h.dlq)
	if n != int64(wantBad+wantUnmapped) {
		t.Errorf("%d dead letters, want %d of pk-bad and %d of pk-unmapped", n, wantBad, wantUnmapped)
	}
	reasons := map[string]int{}
	for _, dl := range h.deadLetters(t, int(n)) {
		pk := dl.Headers["product_key"]
		reasons[pk+" "+dl.Reason]++
		if dl.Stage != "enos" || len(dl.Value) == 0 {
			t.Errorf("dead letter %+v: want stage enos and the original record", dl)
		}
	}
	want := map[string]int{"pk-bad enos_rejected": wantBad, "pk-unmapped no_mapping": wantUnmapped}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("dead letters by product and reason = %v, want %v", reasons, want)
	}
}

func TestForwarderKilledMidStream(t *testing.T) {
	h := newHarness(t, testMapping, sinksim.EnOSConfig{})
	h.batchSize = 50
	f := newFleet("pk-ev", "EV", 25, 60, time.Second)
	// A slow EnOS keeps the forwarder mid-stream when it is killed.
	if err := h.sim.Faults().Set(sinksim.FaultConfig{Latency: 15 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	h.produce(t, f.recs...)
	first := h.startProcess(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.sim.WaitPoints(ctx, len(f.points)/4); err != nil {
		t.Fatal(err)
	}
	_ = first.Process.Signal(syscall.SIGKILL)
	_, _ = first.Process.Wait()
	atKill := len(h.sim.Points())
	if atKill >= len(f.points) {
		t.Fatalf("every point had arrived before the kill: the test tested nothing")
	}
	h.sim.Faults().Clear()

	second := h.startProcess(t)
	waitPoints(t, h.sim, f.points, 2*time.Minute)
	h.waitCommitted(t, time.Minute)
	total := checkPoints(t, h.sim, f.points, true, true)
	if n := h.topicCount(t, h.dlq); n != 0 {
		t.Errorf("%d dead letters, want 0", n)
	}

	// SIGTERM: a clean exit, everything committed.
	_ = second.Process.Signal(syscall.SIGTERM)
	state, _ := second.Process.Wait()
	if code := state.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	t.Logf("kill -9 after %d of %d points: 0 lost, %d duplicates re-sent after restart", atKill, len(f.points), total-len(f.points))
}
