package schemaregistry

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

// Config is the schema registry part of a service's configuration. The
// registry is off while URL is empty.
type Config struct {
	// URL is the base of the registry's Confluent-compatible API, e.g.
	// http://registry:8081 (Confluent) or
	// http://apicurio:8080/apis/ccompat/v7 (Apicurio).
	URL      string `envconfig:"SCHEMA_REGISTRY_URL"`
	Username string `envconfig:"SCHEMA_REGISTRY_USERNAME" file:"true"`
	Password string `envconfig:"SCHEMA_REGISTRY_PASSWORD" file:"true"`
	// CAFile is a PEM bundle of the CAs that sign an https registry's
	// certificate, for a private CA (the system's roots otherwise).
	CAFile string `envconfig:"SCHEMA_REGISTRY_CA_FILE"`
	// Timeout bounds one request to the registry.
	Timeout time.Duration `envconfig:"SCHEMA_REGISTRY_TIMEOUT" default:"10s"`
}

// Enabled reports whether a registry is configured.
func (c Config) Enabled() bool { return c.URL != "" }

// Validate reports every problem in the registry settings.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		for name, v := range map[string]string{"SCHEMA_REGISTRY_USERNAME": c.Username, "SCHEMA_REGISTRY_PASSWORD": c.Password, "SCHEMA_REGISTRY_CA_FILE": c.CAFile} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s is set but SCHEMA_REGISTRY_URL is empty: set SCHEMA_REGISTRY_URL or unset %s", name, name))
			}
		}
		return errors.Join(errs...)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SCHEMA_REGISTRY_URL=%q: must be an http:// or https:// URL, e.g. http://registry:8081", c.URL))
	} else if c.CAFile != "" && u.Scheme != "https" {
		errs = append(errs, fmt.Errorf("SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL=%q is not https", c.URL))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: set both (basic authentication) or neither"))
	}
	if c.CAFile != "" {
		if _, err := c.rootCAs(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("SCHEMA_REGISTRY_TIMEOUT=%s: must be positive, e.g. 10s", c.Timeout))
	}
	return errors.Join(errs...)
}

func (c Config) rootCAs() (*x509.CertPool, error) {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("SCHEMA_REGISTRY_CA_FILE=%q: %v", c.CAFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SCHEMA_REGISTRY_CA_FILE=%q: no PEM certificate in it", c.CAFile)
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
