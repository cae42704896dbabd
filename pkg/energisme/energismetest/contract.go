package energismetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// ReceivedUplink is an uplink as the sink stored it.
type ReceivedUplink struct {
	Timestamp  string
	DeviceID   string
	Payload    []byte
	DeviceType string
	Source     string
}

// Target is one Energisme push endpoint under test.
type Target struct {
	// Config points at the endpoint with a valid token.
	Config energisme.Config
	// DeviceType is a device type the endpoint accepts.
	DeviceType string
	// WaitUplinks, when set, blocks until the endpoint stored at least n
	// uplinks (or ctx ends) and returns them all. A real endpoint leaves it
	// nil.
	WaitUplinks func(ctx context.Context, n int) ([]ReceivedUplink, error)
}

// Run runs the contract. newTarget is called once per subtest and must
// return an endpoint with no stored data.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Run("uplink arrives exactly", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		paris := time.FixedZone("CEST", 2*3600)
		up := energisme.Uplink{
			Time:       time.Date(2019, 4, 28, 14, 59, 36, 599_400_000, paris),
			DeviceID:   "123124",
			Payload:    []byte{0x23, 0x67, 0xA3, 0xB3, 0xC1, 0xDE, 0xFE},
			DeviceType: tg.DeviceType,
		}
		if err := c.Push(ctx, up); err != nil {
			t.Fatalf("Push: %v", err)
		}
		if tg.WaitUplinks == nil {
			return
		}
		got, err := tg.WaitUplinks(ctx, 1)
		if err != nil {
			t.Fatalf("waiting for the uplink: %v", err)
		}
		source := tg.Config.Source
		if source == "" {
			source = energisme.DefaultSource
		}
		want := ReceivedUplink{Timestamp: "2019-04-28T12:59:36.599Z", DeviceID: "123124", Payload: up.Payload, DeviceType: tg.DeviceType, Source: source}
		if len(got) != 1 || got[0].Timestamp != want.Timestamp || got[0].DeviceID != want.DeviceID ||
			!bytes.Equal(got[0].Payload, want.Payload) || got[0].DeviceType != want.DeviceType || got[0].Source != want.Source {
			t.Fatalf("received %+v, want exactly %+v", got, want)
		}
	})

	t.Run("wrong token is retryable, not a bad record", func(t *testing.T) {
		tg := newTarget(t)
		cfg := tg.Config
		cfg.Token += "-wrong"
		err := NewClient(t, cfg).Push(Context(t), energisme.Uplink{Time: time.Now(), DeviceID: "d1", Payload: []byte{1}, DeviceType: tg.DeviceType})
		if _, ok := sinkerr.Retryable(err); !ok || !errors.Is(err, energisme.ErrUnauthorized) {
			t.Fatalf("err = %v, want retryable ErrUnauthorized", err)
		}
	})

	t.Run("concurrent pushes all arrive", func(t *testing.T) {
		tg := newTarget(t)
		c := NewClient(t, tg.Config)
		ctx := Context(t)
		const n = 50
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = c.Push(ctx, energisme.Uplink{Time: time.UnixMilli(1700000000000 + int64(i)), DeviceID: fmt.Sprintf("d%02d", i), Payload: []byte{byte(i), 0xFF}, DeviceType: tg.DeviceType})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("Push: %v", err)
		}
		if tg.WaitUplinks == nil {
			return
		}
		got, err := tg.WaitUplinks(ctx, n)
		if err != nil {
			t.Fatalf("waiting for %d uplinks: %v", n, err)
		}
		seen := map[string]bool{}
		for _, u := range got {
			seen[u.DeviceID] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("received %d uplinks from %d devices, want %d", len(got), len(seen), n)
		}
	})
}

// NewClient builds a client for cfg, failing the test when cfg is invalid.
func NewClient(t *testing.T, cfg energisme.Config) *energisme.Client {
	t.Helper()
	c, err := energisme.New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("energisme.New: %v", err)
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
