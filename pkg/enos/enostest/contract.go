package enostest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// ReceivedPoint is a measurement point as the sink stored it.
type ReceivedPoint struct {
	Device   enos.Device
	PointID  string
	Value    any
	TimeMs   int64
	Realtime bool
}

// Target is one EnOS endpoint under test.
type Target struct {
	// Config points at the endpoint with valid credentials.
	Config enos.Config
	// Devices are devices the endpoint accepts (at least one).
	Devices []enos.Device
	// WaitPoints, when set, blocks until the endpoint stored at least n
	// points (or ctx ends) and returns them all; it lets the suite check
	// exactly what arrived. A real tenant leaves it nil.
	WaitPoints func(ctx context.Context, n int) ([]ReceivedPoint, error)
}

// Run runs the contract. newTarget is called once per subtest and must
// return an endpoint with no stored data.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Run("token is issued and cached", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		first, err := c.Tokens().Token(ctx)
		if err != nil || first == "" {
			t.Fatalf("Token() = %q, %v", first, err)
		}
		second, err := c.Tokens().Token(ctx)
		if err != nil || second != first {
			t.Fatalf("second Token() = %q, %v; want the cached %q", second, err, first)
		}
	})

	t.Run("wrong secret is rejected as retryable auth error", func(t *testing.T) {
		tg := newTarget(t)
		cfg := tg.Config
		cfg.SecretKey += "-wrong"
		c := NewClient(t, cfg)
		res := c.PostMeasurepoints(Context(t), []enos.MeasurepointEntry{point(tg.Devices[0], "temp", 1.5, time.Now())})
		err := res.Err()
		if !errors.Is(err, enos.ErrAuth) {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
		if _, ok := sinkerr.Retryable(err); !ok {
			t.Fatalf("err = %v, want retryable (a bad secret is not the record's fault)", err)
		}
	})

	t.Run("measurepoints arrive exactly", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		at := time.UnixMilli(1700000000123)
		entries := []enos.MeasurepointEntry{
			{Device: tg.Devices[0], Time: at, Measurepoints: map[string]any{"temp": 12.5, "on": true}},
			{Device: tg.Devices[0], Time: at.Add(time.Second), Measurepoints: map[string]any{"temp": 13.0}},
		}
		res := c.PostMeasurepoints(ctx, entries)
		if !res.OK() {
			t.Fatalf("PostMeasurepoints: %v", res.Err())
		}
		want := []ReceivedPoint{
			{Device: tg.Devices[0], PointID: "temp", Value: 12.5, TimeMs: 1700000000123, Realtime: true},
			{Device: tg.Devices[0], PointID: "on", Value: true, TimeMs: 1700000000123, Realtime: true},
			{Device: tg.Devices[0], PointID: "temp", Value: 13.0, TimeMs: 1700000001123, Realtime: true},
		}
		checkPoints(t, ctx, tg, want)
	})

	t.Run("backfill is marked not realtime", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		res := c.PostMeasurepoints(ctx, []enos.MeasurepointEntry{point(tg.Devices[0], "temp", 7.0, time.UnixMilli(1600000000000))}, enos.Backfill())
		if !res.OK() {
			t.Fatalf("PostMeasurepoints: %v", res.Err())
		}
		checkPoints(t, ctx, tg, []ReceivedPoint{{Device: tg.Devices[0], PointID: "temp", Value: 7.0, TimeMs: 1600000000000, Realtime: false}})
	})

	t.Run("events and attributes are accepted", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		ev := c.PostEvents(ctx, []enos.EventEntry{{Device: tg.Devices[0], Time: time.Now(), Events: map[string]map[string]any{
			"fault": {"value": 1, "attr_name": "overheat"},
		}}})
		if !ev.OK() {
			t.Fatalf("PostEvents: %v", ev.Err())
		}
		at := c.PostAttributes(ctx, []enos.AttributeEntry{{Device: tg.Devices[0], Attributes: map[string]any{"online": true}}})
		if !at.OK() {
			t.Fatalf("PostAttributes: %v", at.Err())
		}
	})

	t.Run("batch over 512 KB is split and fully accepted", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		const n = 300
		filler := strings.Repeat("x", 4000) // 300 × ~4 KB ≈ 1.2 MB
		entries := make([]enos.MeasurepointEntry, n)
		for i := range entries {
			entries[i] = point(tg.Devices[i%len(tg.Devices)], "blob", fmt.Sprintf("%04d%s", i, filler), time.UnixMilli(1700000000000+int64(i)))
		}
		res := c.PostMeasurepoints(ctx, entries)
		if !res.OK() {
			t.Fatalf("PostMeasurepoints: %v (unsent %v, rejected %v)", res.Err(), res.Unsent(), res.Rejected())
		}
		if tg.WaitPoints == nil {
			return
		}
		got, err := tg.WaitPoints(ctx, n)
		if err != nil {
			t.Fatalf("waiting for %d points: %v", n, err)
		}
		seen := map[int64]bool{}
		for _, p := range got {
			seen[p.TimeMs] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("got %d points (%d distinct), want %d", len(got), len(seen), n)
		}
	})
}

// NewClient builds a client for cfg, failing the test when cfg is invalid.
func NewClient(t *testing.T, cfg enos.Config) *enos.Client {
	t.Helper()
	c, err := enos.New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("enos.New: %v", err)
	}
	return c
}

// Context is the test's context, bounded to 30 seconds: the deadline of
// one contract step.
func Context(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func point(d enos.Device, id string, v any, at time.Time) enos.MeasurepointEntry {
	return enos.MeasurepointEntry{Device: d, Time: at, Measurepoints: map[string]any{id: v}}
}

// checkPoints compares what the target stored with want, ignoring order.
func checkPoints(t *testing.T, ctx context.Context, tg Target, want []ReceivedPoint) {
	t.Helper()
	if tg.WaitPoints == nil {
		return
	}
	got, err := tg.WaitPoints(ctx, len(want))
	if err != nil {
		t.Fatalf("waiting for %d points: %v", len(want), err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d points %+v, want %d %+v", len(got), got, len(want), want)
	}
	remaining := append([]ReceivedPoint{}, want...)
	for _, g := range got {
		found := false
		for i, w := range remaining {
			if g == w {
				remaining = append(remaining[:i], remaining[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("unexpected point %+v; want %+v", g, want)
		}
	}
}
