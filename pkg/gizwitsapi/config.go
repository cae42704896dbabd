package gizwitsapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultURL is the Enterprise API's host. Gizwits' docs show plain http;
// the client defaults to https.
const DefaultURL = "https://enterpriseapi.gizwits.com"

// Config configures a Client.
type Config struct {
	// URL is the API's base URL, DefaultURL when empty.
	URL string
	// EnterpriseID and EnterpriseSecret buy the tokens.
	EnterpriseID     string
	EnterpriseSecret string
	// ProductSecrets maps product_key to product secret; only listed
	// products can be called.
	ProductSecrets map[string]string
	// RequestTimeout bounds each HTTP request (default 10 s).
	RequestTimeout time.Duration
	// RenewBefore is how long before its expiry a token is replaced
	// (default one hour; tokens live seven days).
	RenewBefore time.Duration
	// HTTPClient, when nil, is a client with RequestTimeout that never
	// follows redirects. A client passed in gets its CheckRedirect replaced
	// on a copy, for the same reason.
	HTTPClient *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (c *Config) applyDefaults() {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.RenewBefore <= 0 {
		c.RenewBefore = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	hc := &http.Client{Timeout: c.RequestTimeout}
	if c.HTTPClient != nil {
		copied := *c.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.HTTPClient = hc
}

func (c *Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q: want an http(s) base URL such as %s", c.URL, DefaultURL))
	}
	if c.EnterpriseID == "" {
		errs = append(errs, errors.New("EnterpriseID: required"))
	}
	if c.EnterpriseSecret == "" {
		errs = append(errs, errors.New("EnterpriseSecret: required"))
	}
	for pk, s := range c.ProductSecrets {
		if pk == "" || s == "" {
			errs = append(errs, fmt.Errorf("ProductSecrets[%q]: product_key and secret must both be set", pk))
		}
	}
	return errors.Join(errs...)
}
