package energisme

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
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
	// Source is the "source" header (ENERGISME_SOURCE, default
	// generic-sensors).
	Source string
	// RequestTimeout bounds each request (default 30 s); a request that
	// times out is retryable.
	RequestTimeout time.Duration
	// HTTPClient sends the requests (default: an http.Client keeping up to
	// 64 idle connections to the host, for concurrent callers).
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
		c.HTTPClient = &http.Client{Transport: newTransport()}
	}
}

func (c *Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("ENERGISME_URL=%q: must be an absolute http:// or https:// URL", c.URL))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("ENERGISME_TOKEN is empty: set the token given by Energisme"))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("RequestTimeout=%s: must not be negative", c.RequestTimeout))
	}
	return errors.Join(errs...)
}

// newTransport is http.DefaultTransport keeping more idle connections per
// host: the default (2) makes concurrent callers open and close a
// connection per request.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}
