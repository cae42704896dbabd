package energisme

import (
	"errors"
	"net/http"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
)

// Defaults applied by New.
const (
	DefaultSource         = "generic-sensors"
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures a Client. The string fields map onto the ENERGISME_*
// variables of the Energisme forwarder.
type Config struct {
	// URL is the push endpoint (ENERGISME_URL).
	URL string
	// Token is the token given by Energisme (ENERGISME_TOKEN), sent as
	// "Authorization: Basic <token>" exactly as given.
	Token string
	// AllowInsecureHTTP accepts an http:// URL to a host that is not
	// loopback (ENERGISME_ALLOW_INSECURE_HTTP), for a sink emulator on a
	// trusted network: the token travels in clear.
	AllowInsecureHTTP bool
	// Source is the "source" header (ENERGISME_SOURCE, default
	// generic-sensors).
	Source string
	// RequestTimeout bounds each request (default 30 s); a request that
	// times out is retryable.
	RequestTimeout time.Duration
	// MaxInFlight is the most pushes the caller has in flight at once (the
	// forwarder's ENERGISME_CONCURRENCY); the default HTTPClient keeps
	// that many idle connections to the host (at least 64).
	MaxInFlight int
	// HTTPClient sends the requests (default: sinkhttp.NewClientFor
	// MaxInFlight). New uses a copy that follows no redirect, so the token
	// goes nowhere else.
	HTTPClient *http.Client
}

func (c *Config) applyDefaults() {
	if c.Source == "" {
		c.Source = DefaultSource
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = sinkhttp.NewClientFor(c.MaxInFlight)
	} else {
		c.HTTPClient = sinkhttp.NoRedirects(c.HTTPClient)
	}
}

func (c *Config) validate() error {
	var errs []error
	switch err := sinkhttp.CheckURL(c.URL, c.AllowInsecureHTTP); {
	case errors.Is(err, sinkhttp.ErrPlainHTTP):
		errs = append(errs, fielderr.Bad("URL", c.URL, "http:// would send the token in clear: use https://, or set AllowInsecureHTTP=true for an emulator on a trusted network"))
	case err != nil:
		errs = append(errs, fielderr.Wrap("URL", c.URL, err))
	}
	if c.Token == "" {
		errs = append(errs, fielderr.New("Token", "is empty: set the token given by Energisme"))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fielderr.Bad("RequestTimeout", c.RequestTimeout, "must not be negative"))
	}
	return errors.Join(errs...)
}
