package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// TestBurstSplitUnderPartLimit sends a burst of large telemetry records
// that needs many requests, with ENOS_MAX_MESSAGE_BYTES set below the
// emulator's own limit (512,000 bytes, the strict reading of "512 KB"): no
// enos-message part exceeds the configured limit, every point arrives, and
// the one record whose entry alone exceeds the limit is dead-lettered with
// reason too_large while the records after it in its partition go on.
func TestBurstSplitUnderPartLimit(t *testing.T) {
	const limit = 300_000
	h := newHarness(t, testMapping, sinksim.EnOSConfig{})
	h.maxMessageBytes = limit
	h.batchSize = 200

	base := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	blob := strings.Repeat("b", 8_000)
	want := map[point]any{}
	var recs []records.Record
	const n = 300 // ≈ 2.4 MB of entries: at least 8 requests
	oversized := "tel-oversized"
	for i := range n {
		did := fmt.Sprintf("burst-dev-%d", i%3) // few devices: few partitions, long runs per partition
		at := base.Add(time.Duration(i) * time.Millisecond)
		id := fmt.Sprintf("tel-burst-%d-%d", base.UnixNano(), i)
		points := []records.DataPoint{{Name: "voltage", Value: float64(i)}, {Name: "log", Value: blob}}
		if i == n/3 {
			id, points = oversized, []records.DataPoint{{Name: "log", Value: strings.Repeat("x", limit)}}
		} else {
			want[point{"EV/" + did, "Voltage", at.UnixMilli()}] = float64(i)
			want[point{"EV/" + did, "log", at.UnixMilli()}] = blob
		}
		recs = append(recs, &records.DeviceTelemetry{
			EventID: id, ProductKey: "pk-ev", DID: did, Time: at, ReceivedAt: at,
			Source: "device_status_raw", Codec: "standard", Kind: "status_report", Points: points,
		})
	}
	h.produce(t, recs...)
	h.startInProcess(t)

	waitPoints(t, h.sim, want, 2*time.Minute)
	h.waitCommitted(t, time.Minute)
	checkPoints(t, h.sim, want, false, true)

	reqs := h.sim.Requests()
	biggest := 0
	for _, r := range reqs {
		biggest = max(biggest, r.MessageBytes)
		if r.MessageBytes > limit {
			t.Errorf("request %s: enos-message of %d bytes, over ENOS_MAX_MESSAGE_BYTES=%d", r.MessageID, r.MessageBytes, limit)
		}
		if r.Code != 0 {
			t.Errorf("request %s refused: code %d", r.MessageID, r.Code)
		}
	}
	if len(reqs) < 8 {
		t.Errorf("%d requests for ≈ 2.4 MB of entries: the burst was not split", len(reqs))
	}
	dls := h.deadLetters(t, 1)
	if dl := dls[0]; dl.Reason != "too_large" || !strings.Contains(dl.Error, "exceeds the EnOS message size limit") || dl.EventID == nil || *dl.EventID != oversized {
		t.Errorf("dead letter %+v: want the oversized record with reason too_large", dl)
	}
	if n := h.topicCount(t, h.dlq); n != 1 {
		t.Errorf("%d dead letters, want only the oversized record", n)
	}
	t.Logf("%d records (≈ %d KB) in %d requests, largest enos-message %d bytes (limit %d); oversized entry dead-lettered as too_large",
		n, n*len(blob)/1000, len(reqs), biggest, limit)
}
