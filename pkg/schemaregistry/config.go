package schemaregistry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
)

// Config is the schema registry part of a service's configuration. The
// registry is off while URL is empty. Services read it from the
// SCHEMA_REGISTRY_* variables (pkg/config/registryenv).
type Config struct {
	// URL is the base of the registry's Confluent-compatible API, e.g.
	// http://registry:8081 (Confluent) or
	// http://apicurio:8080/apis/ccompat/v7 (Apicurio).
	URL      string
	Username string
	Password string
	// CAFile is a PEM bundle of the CAs that sign an https registry's
	// certificate, for a private CA (the system's roots otherwise).
	CAFile string
	// AllowInsecureHTTP lets credentials go to an http:// registry that is
	// not on loopback.
	AllowInsecureHTTP bool
	// Timeout bounds one request to the registry.
	Timeout time.Duration
}

// Enabled reports whether a registry is configured.
func (c Config) Enabled() bool { return c.URL != "" }

// Validate reports every problem in the registry settings, in field
// order; errors name the fields (fielderr).
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		for _, f := range []struct{ name, v string }{{"Username", c.Username}, {"Password", c.Password}, {"CAFile", c.CAFile}} {
			if f.v != "" {
				errs = append(errs, fielderr.New(f.name, "is set but URL is empty: set URL or unset %s", f.name))
			}
		}
		return errors.Join(errs...)
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, fielderr.Bad("URL", c.URL, "must be an http:// or https:// address, e.g. https://registry:8081"))
	case c.CAFile != "" && u.Scheme != "https":
		errs = append(errs, fielderr.Bad("URL", c.URL, "is not https but CAFile is set: use https:// or unset CAFile"))
	case c.Password != "" && u.Scheme == "http" && !sinkhttp.IsLoopback(u.Hostname()) && !c.AllowInsecureHTTP:
		errs = append(errs, fielderr.Bad("URL", c.URL, "would send Password in clear: use https://, or set AllowInsecureHTTP=true for a registry on a trusted network"))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, fielderr.New("Username", "and Password: set both (basic authentication) or neither"))
	}
	if c.CAFile != "" {
		if _, err := c.rootCAs(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fielderr.Bad("Timeout", c.Timeout, "must be positive, e.g. 10s"))
	}
	return errors.Join(errs...)
}

func (c Config) rootCAs() (*x509.CertPool, error) {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fielderr.Wrap("CAFile", c.CAFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fielderr.Bad("CAFile", c.CAFile, "no PEM certificate in it")
	}
	return pool, nil
}

func (c Config) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CAFile != "" {
		pool, err := c.rootCAs()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: c.Timeout}, nil
}
