package energismefwd

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// PushSettings configure the push part (the forwarder reads them from the
// ENERGISME_* variables, pkg/config/sinkenv.EnergismePush). The part is enabled
// when URL is set; only then are the others checked. Validation errors
// name the fields.
type PushSettings struct {
	URL   string
	Token string
	// AllowInsecureHTTP accepts an http:// URL to a host that is not
	// loopback (an emulator on a trusted network).
	AllowInsecureHTTP bool
	Source            string
	MappingFile       string
	Unmapped          string
	Concurrency       int
	RequestTimeout    time.Duration
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
		errs = append(errs, fielderr.New("MappingFile", "is empty: set a JSON file mapping product_key to devicetype (see services/energisme-forwarder/mapping.example.json)"))
	} else if _, err := LoadMapping(s.MappingFile); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseUnmappedPolicy(s.Unmapped); err != nil {
		errs = append(errs, err)
	}
	if s.Concurrency < 1 || s.Concurrency > 1024 {
		errs = append(errs, fielderr.Bad("Concurrency", s.Concurrency, "must be 1..1024"))
	}
	if s.RequestTimeout <= 0 {
		errs = append(errs, fielderr.Bad("RequestTimeout", s.RequestTimeout, "must be positive, e.g. 30s"))
	}
	return errors.Join(errs...)
}

func (s PushSettings) clientConfig() energisme.Config {
	return energisme.Config{URL: s.URL, Token: s.Token, AllowInsecureHTTP: s.AllowInsecureHTTP, Source: s.Source, RequestTimeout: s.RequestTimeout, MaxInFlight: s.Concurrency}
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
