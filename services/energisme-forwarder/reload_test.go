package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/testkit"
)

const newProduct = "11112222333344445555666677778888"

func reloadMapping(products ...string) string {
	var parts []string
	for _, pk := range products {
		parts = append(parts, fmt.Sprintf(`%q: {"devicetype": "type-%s"}`, pk, pk[:4]))
	}
	return `{"products": {` + strings.Join(parts, ", ") + `}}`
}

// TestMappingReloadedWhileTrafficFlows swaps ENERGISME_MAPPING_FILE the way
// the kubelet updates a ConfigMap mounted as a folder (a "..data" symlink
// swap) while raw events of a mapped product flow: the product the swap
// adds reaches Energisme within seconds, without a restart; a broken file
// is rejected (metric) and the mapping in force keeps working; nothing of
// the flowing traffic is lost or dead-lettered.
func TestMappingReloadedWhileTrafficFlows(t *testing.T) {
	e := newEnv(t, false)
	emu := e.stack.Energisme
	cm := testkit.NewConfigMap(t, map[string]string{"mapping.json": reloadMapping(evCharger)})
	group := e.events + "-energisme"
	cfg := e.config(group, true, false)
	cfg.Push.MappingFile = cm.Path("mapping.json")
	a, _ := e.start(cfg)

	w, err := e.kc.NewWriter(e.events)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var seq atomic.Uint32
	event := func(pk string) (kafka.Message, string) {
		n := seq.Add(1)
		raw := binary.BigEndian.AppendUint32([]byte{0xEE}, n)
		did := fmt.Sprintf("%s-dev%d", pk[:4], n%4)
		return e.rawEvent(fmt.Sprintf("reload-%d", n), "device_status_raw", pk, did, "", time.Now().UTC(), raw), strings.ToUpper(hex.EncodeToString(raw))
	}
	send := func(pk string, count int) ([]string, error) {
		var msgs []kafka.Message
		var payloads []string
		for range count {
			m, p := event(pk)
			msgs, payloads = append(msgs, m), append(payloads, p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return payloads, w.WriteMessages(ctx, msgs...)
	}
	arrived := func(payloads []string) int {
		have := map[string]bool{}
		for _, u := range emu.Uplinks() {
			have[u.PayloadHex] = true
		}
		n := 0
		for _, p := range payloads {
			if have[p] {
				n++
			}
		}
		return n
	}
	waitAll := func(what string, payloads []string) {
		t.Helper()
		testkit.Eventually(t, time.Minute, what, func() bool { return arrived(payloads) == len(payloads) })
	}

	// Background traffic of the mapped product for the whole test.
	var (
		mu      sync.Mutex
		traffic []string
	)
	ctx, stopTraffic := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			p, err := send(evCharger, 5)
			if err != nil {
				t.Errorf("writing traffic: %v", err)
				return
			}
			mu.Lock()
			traffic = append(traffic, p...)
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	testkit.Eventually(t, time.Minute, "traffic reaching Energisme", func() bool { return len(emu.Uplinks()) > 0 })

	swapped := time.Now()
	cm.Update(map[string]string{"mapping.json": reloadMapping(evCharger, newProduct)})
	var probes []string
	var latency time.Duration
	for deadline := time.Now().Add(20 * time.Second); ; {
		p, err := send(newProduct, 1)
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p...)
		if arrived(probes) > 0 {
			latency = time.Since(swapped)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no uplink of the added product 20s after the mapping swap")
		}
		time.Sleep(100 * time.Millisecond) // pacing the probes, not synchronising
	}
	if latency > 10*time.Second {
		t.Errorf("the added product took %s to reach Energisme, want seconds", latency)
	}
	added, err := send(newProduct, 30)
	if err != nil {
		t.Fatal(err)
	}
	waitAll("the added product's events", added)
	for _, u := range emu.Uplinks() {
		if strings.HasPrefix(u.DeviceID, newProduct[:4]) && u.DeviceType != "type-1111" {
			t.Errorf("uplink %+v: want devicetype type-1111 from the new mapping", u)
		}
	}

	// A broken file (it would drop the new product): rejected, the mapping
	// in force stays.
	cm.Update(map[string]string{"mapping.json": `{"products": {"` + evCharger + `": {"devicetype": ""}}}`})
	testkit.Eventually(t, 20*time.Second, "snotibridge_config_rejected = 1", func() bool {
		return gauge(t, a.metrics, "snotibridge_config_rejected") == 1
	})
	after, err := send(newProduct, 30)
	if err != nil {
		t.Fatal(err)
	}
	waitAll("the added product's events after the broken file", after)

	stopTraffic()
	wg.Wait()
	waitAll("every event of the traffic", traffic)
	testkit.Eventually(t, time.Minute, "offsets committed to the end", func() bool { c, end := e.committed(group, e.events, 3); return c == end })

	// Only probes sent before the reload took effect are dead letters.
	_, dlqEnd := e.committed("none", e.dlq, 1)
	dls := readDeadLetters(t, e, int(dlqEnd))
	for _, dl := range dls {
		if dl.Reason != "no_mapping" || !strings.Contains(dl.Error, newProduct) {
			t.Errorf("dead letter %s: %s, want only no_mapping probes of the added product", dl.Reason, dl.Error)
		}
	}
	if got := arrived(probes) + len(dls); got != len(probes) {
		t.Errorf("%d probes: %d at Energisme + %d dead-lettered: some were lost", len(probes), arrived(probes), len(dls))
	}
	if n := len(emu.Uplinks()); n != len(traffic)+len(added)+len(after)+arrived(probes) {
		t.Errorf("%d uplinks, want %d: duplicates", n, len(traffic)+len(added)+len(after)+arrived(probes))
	}
	t.Logf("mapping swap → added product at Energisme in %s (%d probes, %d dead-lettered before the reload); %d traffic events, 0 lost; broken file rejected, old mapping kept",
		latency.Round(time.Millisecond), len(probes), len(dls), len(traffic))
}
