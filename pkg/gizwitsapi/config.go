package gizwitsapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
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
	// CAFile, when set, is a PEM file of the only CAs trusted for the API's
	// certificate (a private endpoint or an emulator); empty: the system
	// roots. It applies to the client built here, not to an HTTPClient
	// passed in.
	CAFile string
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

	caTransport http.RoundTripper // built from CAFile by loadCA
}

// loadCA reads CAFile into a transport trusting only its certificates.
func (c *Config) loadCA() error {
	if c.CAFile == "" {
		return nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return fmt.Errorf("CAFile %q: %w", c.CAFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("CAFile %q: no PEM certificate in the file", c.CAFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.caTransport = t
	return nil
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
	if c.CAFile != "" {
		hc.Transport = c.caTransport
	}
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
