package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// ErrSinkUnavailable is returned for a sink that this build cannot reach
// (registered without a factory).
var ErrSinkUnavailable = errors.New("sink not available in this build")

// ErrSinkConfig marks a factory error caused by the sink's configuration
// (a variable unset, a mapping file unreadable) rather than by the sink
// being unreachable: wrap it, fmt.Errorf("%w: ENOS_MAPPING_FILE …",
// replay.ErrSinkConfig), and bridgectl exits with its usage code.
var ErrSinkConfig = errors.New("sink configuration")

// SinkEnv is what a SinkFactory gets. The sink reads its own settings (URLs,
// credentials, mapping files) from the environment the way its service does.
type SinkEnv struct {
	Kafka   kafkaconf.Config
	Codec   *records.Codec
	Log     zerolog.Logger
	Metrics prometheus.Registerer
	// Replay is true when the handler will be given historical records — a
	// replay or a DLQ redrive — rather than the live stream. A sink whose
	// API distinguishes the two must say so: EnOS backfills are posted as
	// non-realtime data. Every Handle call's context also answers IsReplay.
	Replay bool
}

// SinkFactory builds the same consume.Handler the sink's live forwarder
// uses. If the handler also implements io.Closer or
// interface{ Close(context.Context) error }, it is closed after the run.
type SinkFactory func(ctx context.Context, env SinkEnv) (consume.Handler, error)

// Sink is a registered replay target.
type Sink struct {
	Name     string   // the --sink value
	Stage    string   // DeadLetter.stage and metrics label, as the live stage's
	Inputs   []string // topics a replay reads by default
	DLQTopic string   // where records the sink rejects go
	Factory  SinkFactory
}

// Sinks is the table of replay targets by name.
type Sinks []Sink

// Names lists the registered sink names.
func (s Sinks) Names() []string {
	out := make([]string, len(s))
	for i, k := range s {
		out[i] = k.Name
	}
	return out
}

// Lookup finds a sink by name. A sink without a factory is returned with
// ErrSinkUnavailable.
func (s Sinks) Lookup(name string) (Sink, error) {
	i := slices.IndexFunc(s, func(k Sink) bool { return k.Name == name })
	if i < 0 {
		return Sink{}, fmt.Errorf("unknown sink %q: want one of %s", name, strings.Join(s.Names(), ", "))
	}
	if s[i].Factory == nil {
		return s[i], fmt.Errorf("sink %q: %w", name, ErrSinkUnavailable)
	}
	return s[i], nil
}

// Build calls the sink's factory with env.Replay set, and returns the
// handler with a function that closes it (a no-op when it holds nothing).
func (k Sink) Build(ctx context.Context, env SinkEnv) (consume.Handler, func(context.Context) error, error) {
	if k.Factory == nil {
		return nil, nil, fmt.Errorf("sink %q: %w", k.Name, ErrSinkUnavailable)
	}
	env.Replay = true
	if env.Metrics == nil {
		env.Metrics = prometheus.NewRegistry()
	}
	h, err := k.Factory(consume.WithReplay(ctx), env)
	if err != nil {
		return nil, nil, fmt.Errorf("building sink %s: %w", k.Name, err)
	}
	closer := func(context.Context) error { return nil }
	switch c := h.(type) {
	case interface{ Close(context.Context) error }:
		closer = c.Close
	case io.Closer:
		closer = func(context.Context) error { return c.Close() }
	}
	return h, closer, nil
}
