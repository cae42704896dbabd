package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// benchPoints is the number of measurement points of a benchRecord.
const benchPoints = 9

// benchRecord is an EV charger status report as the decoder writes it.
func benchRecord(did string, seq int, at time.Time) *records.DeviceTelemetry {
	return &records.DeviceTelemetry{
		EventID: fmt.Sprintf("bench-%d-%s-%d", at.UnixNano(), did, seq), ProductKey: "pk-ev", DID: did, MAC: "mac-" + did,
		Time: at, ReceivedAt: at, Source: "device_status_raw", Codec: "standard", Kind: "status_report",
		Points: []records.DataPoint{
			{Name: "charge_enable", Value: true}, {Name: "mode", Value: "auto"}, {Name: "current_limit", Value: int64(32)},
			{Name: "plug_connected", Value: true}, {Name: "state", Value: "charging"}, {Name: "voltage", Value: 230.1 + float64(seq%10)},
			{Name: "current", Value: 16.02}, {Name: "energy_kwh", Value: 12.345 + float64(seq)}, {Name: "temperature", Value: int64(35)},
			{Name: "session_id", Value: "0011223344556677"}, // dropped by the mapping
		},
	}
}

// startWarm starts the forwarder in-process and waits until a first record
// has gone through, so the timings exclude the consumer group join.
func startWarm(b *testing.B, h *harness) {
	b.Helper()
	h.startInProcess(b)
	h.produce(b, benchRecord("warm-up", 0, time.Now().Truncate(time.Millisecond)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.sim.WaitPoints(ctx, benchPoints); err != nil {
		b.Fatalf("warm-up record never arrived: %v", err)
	}
}

// BenchmarkForwarderThroughput measures records per second from Kafka into
// the EnOS emulator the way the no-op copy reference (pkg/consume
// BenchmarkNoopCopy) is measured: a topic filled beforehand with
// throughputRecords telemetry records of 100 devices (9 points each), timed
// from the forwarder's start (group join included) until EnOS has every
// point, so the producer's work stays out of the window.
func BenchmarkForwarderThroughput(b *testing.B) {
	for _, batch := range []int{100, 250, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchThroughput(b, batch) })
	}
}

// throughputRecords is the records of one BenchmarkForwarderThroughput run.
const throughputRecords = 30_000

func benchThroughput(b *testing.B, batchSize int) {
	var took time.Duration
	var requests int
	for range b.N {
		b.StopTimer()
		h := newHarness(b, testMapping, sinksim.EnOSConfig{MaxStored: 1000})
		h.batchSize = batchSize
		now := time.Now().Truncate(time.Millisecond)
		const chunk = 1000
		for i := 0; i < throughputRecords; i += chunk {
			recs := make([]records.Record, 0, chunk)
			for j := i; j < min(i+chunk, throughputRecords); j++ {
				recs = append(recs, benchRecord(fmt.Sprintf("dev-%03d", j%100), j, now.Add(time.Duration(j)*time.Millisecond)))
			}
			h.produce(b, recs...)
		}
		b.StartTimer()
		start := time.Now()
		stop := h.startInProcess(b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		err := h.sim.WaitPoints(ctx, benchPoints*throughputRecords)
		cancel()
		took += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("waiting for %d points: %v", benchPoints*throughputRecords, err)
		}
		requests += h.sim.Stats().Requests
		stop()
	}
	sec := took.Seconds()
	b.ReportMetric(float64(throughputRecords*b.N)/sec, "records/s")
	b.ReportMetric(float64(throughputRecords*b.N*benchPoints)/sec, "points/s")
	b.ReportMetric(float64(requests)/sec, "requests/s")
}

// BenchmarkForwarderLatency5k produces b.N records at a fixed 5000
// records/s (50 every 10 ms) and reports the latency from the record's time
// (set just before the acks=all write) to its receipt by the emulator:
// Kafka write, fetch, batching, the EnOS request.
//
// The consume runner ends a batch at BatchSize, when no message arrived
// within its 1 ms linger, or BatchWait (20 ms) after the first, so under
// a steady stream a batch is what one fetch brought rather than
// BatchSize/rate of records; one sub-benchmark per batch size shows
// whether ENOS_BATCH_SIZE still matters.
func BenchmarkForwarderLatency5k(b *testing.B) {
	for _, batch := range []int{100, 250, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchLatency(b, batch) })
	}
}

func benchLatency(b *testing.B, batchSize int) {
	const rate, tick = 5000, 10 * time.Millisecond
	const perTick = int(rate * tick / time.Second)
	h := newHarness(b, testMapping, sinksim.EnOSConfig{MaxStored: benchPoints * 200_000})
	h.batchSize = batchSize
	startWarm(b, h)
	b.ResetTimer()
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	for sent := 0; sent < b.N; <-t.C {
		// Catch up with the schedule when a write took longer than a tick,
		// so the average rate holds.
		due := min(b.N, int(time.Since(start).Seconds()*rate)+perTick)
		recs := make([]records.Record, 0, max(due-sent, 0))
		now := time.Now()
		for j := sent; j < due; j++ {
			recs = append(recs, benchRecord(fmt.Sprintf("dev-%03d", j%500), j, now))
		}
		if len(recs) > 0 {
			h.produce(b, recs...)
		}
		sent = max(sent, due)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.sim.WaitPoints(ctx, benchPoints*(b.N+1)); err != nil {
		b.Fatalf("waiting for %d points: %v", benchPoints*b.N, err)
	}
	b.StopTimer()
	var lat []time.Duration
	for _, p := range h.sim.Points() {
		if p.PointID == "Voltage" && p.DeviceKey != "warm-up" {
			lat = append(lat, p.ReceivedAt.Sub(time.UnixMilli(p.Time)))
		}
	}
	if len(lat) != b.N {
		b.Fatalf("%d voltage points, want %d", len(lat), b.N)
	}
	slices.Sort(lat)
	q := func(f float64) float64 {
		return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
