package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

const (
	mappingV1 = `{"products": {"pk-ev": {"enos_product_key": "EV", "points": {"voltage": "Voltage", "session_id": ""}}}}`
	mappingV2 = `{"products": {
		"pk-ev":  {"enos_product_key": "EV", "points": {"voltage": "Voltage", "session_id": ""}},
		"pk-new": {"enos_product_key": "NEW", "points": {"voltage": "Voltage", "session_id": ""}}}}`
	// mappingBroken would drop pk-new if it were applied; it has an unknown
	// field, so it must be rejected and v2 stay in force.
	mappingBroken = `{"products": {"pk-ev": {"enos_product_key": "EV"}}, "prodcuts": {}}`
)

// TestMappingReloadedWhileTrafficFlows swaps the mapping file the way the
// kubelet updates a ConfigMap mounted as a folder (a "..data" symlink swap)
// while telemetry of a mapped product flows: a product added by the swap
// reaches EnOS within seconds, without a restart; a broken new file is
// rejected (logged) and the mapping in force keeps working; no record of
// the flowing traffic is lost or dead-lettered.
func TestMappingReloadedWhileTrafficFlows(t *testing.T) {
	cm := testkit.NewConfigMap(t, map[string]string{"mapping.json": mappingV1})
	h := newHarness(t, mappingV1, sinksim.EnOSConfig{})
	h.mappingFile = cm.Path("mapping.json")
	h.batchSize = 20
	logs := &testkit.SyncBuffer{}
	h.logs = logs
	h.startInProcess(t)

	// Background traffic of the mapped product for the whole test.
	var (
		mu    sync.Mutex
		want  = map[point]any{}
		round int
	)
	ctx, stopTraffic := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			round++
			f := newFleet("pk-ev", "EV", 3, 2, time.Second)
			if err := h.write(f.recs); err != nil {
				t.Errorf("writing traffic: %v", err)
				return
			}
			mu.Lock()
			for k, v := range f.points {
				want[k] = v
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()

	testkit.Eventually(t, time.Minute, "traffic reaching EnOS", func() bool { return h.sim.Stats().Points > 0 })

	// Swap in v2, which adds pk-new, then send pk-new probes until one
	// lands: the time from the swap to that is the reload latency.
	swapped := time.Now()
	cm.Update(map[string]string{"mapping.json": mappingV2})
	probes := 0
	var latency time.Duration
	for deadline := time.Now().Add(20 * time.Second); ; {
		probes++
		f := newFleet("pk-new", "NEW", 1, 1, time.Second)
		h.produce(t, f.recs[0]) // the telemetry record only
		if newPoints(h.sim) > 0 {
			latency = time.Since(swapped)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pk-new point at EnOS 20s after the mapping swap")
		}
		time.Sleep(100 * time.Millisecond) // pacing the probes, not synchronising
	}
	if latency > 10*time.Second {
		t.Errorf("the added product took %s to reach EnOS, want seconds", latency)
	}
	added := newFleet("pk-new", "NEW", 4, 10, time.Second)
	h.produce(t, added.recs...)
	waitPoints(t, h.sim, added.points, time.Minute)

	// A broken file: rejected, v2 stays in force (pk-new still delivered).
	cm.Update(map[string]string{"mapping.json": mappingBroken})
	testkit.Eventually(t, 20*time.Second, "the broken mapping rejected in the logs", func() bool {
		return strings.Contains(logs.String(), `"config":"ENOS_MAPPING_FILE"`) && strings.Contains(logs.String(), "new content rejected")
	})
	after := newFleet("pk-new", "NEW", 4, 10, time.Second)
	h.produce(t, after.recs...)
	waitPoints(t, h.sim, after.points, time.Minute)

	stopTraffic()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	waitPoints(t, h.sim, want, time.Minute)
	h.waitCommitted(t, time.Minute)
	checkPoints(t, h.sim, want, false, true)
	checkPoints(t, h.sim, added.points, false, true)
	checkPoints(t, h.sim, after.points, false, true)

	// Only pk-new probes sent before the reload took effect are dead
	// letters (no_mapping); every other probe reached EnOS.
	dl := h.topicCount(t, h.dlq)
	for _, d := range h.deadLetters(t, int(dl)) {
		if d.Reason != "no_mapping" || !strings.Contains(d.Error, "pk-new") {
			t.Errorf("dead letter %s: %s, want only no_mapping of pk-new probes", d.Reason, d.Error)
		}
	}
	if got := int64(newProbePoints(h.sim, added, after)) + dl; got != int64(probes) {
		t.Errorf("%d probes: %d at EnOS + %d dead-lettered: some were lost", probes, got-dl, dl)
	}
	t.Logf("mapping swap → added product at EnOS in %s (%d probes, %d dead-lettered before the reload); %d traffic rounds, %d points, 0 lost; broken file rejected, old mapping kept",
		latency.Round(time.Millisecond), probes, dl, round, len(want))
}

// newPoints counts the points of product NEW at EnOS.
func newPoints(sim *sinksim.EnOS) int {
	n := 0
	for _, p := range sim.Points() {
		if p.ProductKey == "NEW" {
			n++
		}
	}
	return n
}

// newProbePoints counts the probes that reached EnOS: records of NEW not
// part of the two fleets (a probe has three points: Voltage, state, plug).
func newProbePoints(sim *sinksim.EnOS, fleets ...fleet) int {
	inFleet := map[point]bool{}
	for _, f := range fleets {
		for k := range f.points {
			inFleet[k] = true
		}
	}
	n := 0
	for _, p := range sim.Points() {
		if p.ProductKey == "NEW" && !inFleet[point{p.ProductKey + "/" + p.DeviceKey, p.PointID, p.Time}] {
			n++
		}
	}
	return n / 3
}

// write is produce for goroutines: it returns the error.
func (h *harness) write(recs []records.Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var msgs []kafka.Message
	for _, r := range recs {
		t, ok := r.(*records.DeviceTelemetry)
		if !ok {
			continue
		}
		m, err := h.codec.Message("", []byte(t.DID), t)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := h.telemetryW.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("writing telemetry: %w", err)
	}
	return nil
}
