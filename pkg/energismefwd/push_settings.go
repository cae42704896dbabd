package energismefwd

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// PushSettings are the push part's environment variables. The part is
// enabled when ENERGISME_URL is set; only then are the others checked.
type PushSettings struct {
	URL   string `envconfig:"ENERGISME_URL"`
	Token string `envconfig:"ENERGISME_TOKEN" file:"true"`
	// AllowInsecureHTTP accepts an http:// URL to a host that is not
	// loopback (an emulator on a trusted network).
	AllowInsecureHTTP bool          `envconfig:"ENERGISME_ALLOW_INSECURE_HTTP"`
	Source            string        `envconfig:"ENERGISME_SOURCE" default:"generic-sensors"`
	MappingFile       string        `envconfig:"ENERGISME_MAPPING_FILE"`
	Unmapped          string        `envconfig:"ENERGISME_UNMAPPED" default:"dlq"`
	Concurrency       int           `envconfig:"ENERGISME_CONCURRENCY" default:"8"`
	RequestTimeout    time.Duration `envconfig:"ENERGISME_REQUEST_TIMEOUT" default:"30s"`
}

// Enabled reports whether the push part is configured.
func (s PushSettings) Enabled() bool { return s.URL != "" }

// Validate reports every problem of an enabled push part, the mapping
// file's included.
func (s PushSettings) Validate() error {
	if !s.Enabled() {
		return nil
	}
	var errs []error
	if _, err := energisme.New(s.clientConfig(), zerolog.Nop()); err != nil {
		errs = append(errs, err)
	}
	if s.MappingFile == "" {
		errs = append(errs, errors.New("ENERGISME_MAPPING_FILE is empty: set a JSON file mapping product_key to devicetype (see services/energisme-forwarder/mapping.example.json)"))
	} else if _, err := LoadMapping(s.MappingFile); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseUnmappedPolicy(s.Unmapped); err != nil {
		errs = append(errs, err)
	}
	if s.Concurrency < 1 || s.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("ENERGISME_CONCURRENCY=%d: must be 1..1024", s.Concurrency))
	}
	if s.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ENERGISME_REQUEST_TIMEOUT=%s: must be positive, e.g. 30s", s.RequestTimeout))
	}
	return errors.Join(errs...)
}

func (s PushSettings) clientConfig() energisme.Config {
	return energisme.Config{URL: s.URL, Token: s.Token, AllowInsecureHTTP: s.AllowInsecureHTTP, Source: s.Source, RequestTimeout: s.RequestTimeout}
}

// NewPushHandler loads the mapping (reloaded while the handler's
// WatchMapping runs), builds the Energisme client and the handler.
func (s PushSettings) NewPushHandler(codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*PushHandler, error) {
	m, err := OpenMapping(s.MappingFile, log, reg)
	if err != nil {
		return nil, err
	}
	client, err := energisme.New(s.clientConfig(), log)
	if err != nil {
		return nil, err
	}
	policy, err := ParseUnmappedPolicy(s.Unmapped)
	if err != nil {
		return nil, err
	}
	return NewPushHandler(PushConfig{Mapping: m, Unmapped: policy, Concurrency: s.Concurrency}, client, codec, log, reg)
}

// NewPushHandlerFromEnv reads PushSettings from the environment, as the
// forwarder does, and builds the push handler; ENERGISME_URL is required.
// It is what bridgectl's energisme replay sink calls:
//
//	replay.Sink{Name: "energisme", Stage: "energisme", DLQTopic: "energisme.dlq.v1",
//		Inputs: []string{"snoti.events.v1"},
//		Factory: func(_ context.Context, env replay.SinkEnv) (consume.Handler, error) {
//			return energismefwd.NewPushHandlerFromEnv(env.Codec, env.Log, env.Metrics)
//		}}
//
// Energisme has no backfill flag: replayed uplinks are sent like live ones,
// with their original timestamps ((deviceid, timestamp) lets Energisme drop
// duplicates).
func NewPushHandlerFromEnv(codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*PushHandler, error) {
	var s PushSettings
	if err := config.Load(&s); err != nil {
		return nil, err
	}
	if !s.Enabled() {
		return nil, errors.New("ENERGISME_URL is empty: set the Energisme push URL (and ENERGISME_TOKEN, ENERGISME_MAPPING_FILE)")
	}
	return s.NewPushHandler(codec, log, reg)
}
