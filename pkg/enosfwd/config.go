package enosfwd

import (
	"errors"
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/enos"
)

// Config is what the EnOS forwarder and its replays need beside Kafka: the
// EnOS service account and endpoints, the mapping file and the sending
// rules. Every field is read from the environment variable in its tag.
type Config struct {
	APIMURL     string `envconfig:"ENOS_APIM_URL"`
	APIURL      string `envconfig:"ENOS_API_URL"`
	AccessKey   string `envconfig:"ENOS_ACCESS_KEY"`
	SecretKey   string `envconfig:"ENOS_SECRET_KEY" file:"true"`
	OrgID       string `envconfig:"ENOS_ORG_ID"`
	MappingFile string `envconfig:"ENOS_MAPPING_FILE"`
	// AllowInsecureHTTP accepts http:// URLs to hosts that are not
	// loopback (an emulator on a trusted network).
	AllowInsecureHTTP bool `envconfig:"ENOS_ALLOW_INSECURE_HTTP"`
	// BackfillAge: records older than this when sent go out as backfill
	// (isRealtimeIntegration:false); 0 sends everything as real-time
	// (replays are always backfill).
	BackfillAge    time.Duration `envconfig:"ENOS_BACKFILL_AGE" default:"1h"`
	RequestTimeout time.Duration `envconfig:"ENOS_REQUEST_TIMEOUT" default:"30s"`
	// RefreshAhead is how long before expiry the access token is renewed.
	RefreshAhead time.Duration `envconfig:"ENOS_TOKEN_REFRESH_AHEAD" default:"10m"`
	// MaxMessageBytes bounds the enos-message part of one request. EnOS
	// documents "512 KB" without saying 512,000 or 524,288 bytes; the
	// default is below both.
	MaxMessageBytes int `envconfig:"ENOS_MAX_MESSAGE_BYTES" default:"500000"`
}

// LoadConfigFromEnv reads and validates Config from the environment,
// reporting every problem at once (bridgectl builds replay sinks with it).
func LoadConfigFromEnv() (Config, error) {
	var c Config
	if err := config.Load(&c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every variable and the mapping file, naming the variable,
// the value and the fix. The secret key is never echoed.
func (c *Config) Validate() error {
	var errs []error
	if c.MappingFile == "" {
		errs = append(errs, errors.New("ENOS_MAPPING_FILE is empty: set it to the JSON file mapping Gizwits products to EnOS (see services/enos-forwarder/mapping.example.json)"))
	} else if _, err := LoadMapping(c.MappingFile); err != nil {
		errs = append(errs, fmt.Errorf("ENOS_MAPPING_FILE=%q: %w", c.MappingFile, err))
	}
	if c.BackfillAge < 0 {
		errs = append(errs, fmt.Errorf("ENOS_BACKFILL_AGE=%s: must be 0 (never by age) or positive, e.g. 1h", c.BackfillAge))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ENOS_REQUEST_TIMEOUT=%s: must be positive, e.g. 30s", c.RequestTimeout))
	}
	if c.RefreshAhead < 0 {
		errs = append(errs, fmt.Errorf("ENOS_TOKEN_REFRESH_AHEAD=%s: must not be negative, e.g. 10m", c.RefreshAhead))
	}
	ec := c.EnOS()
	if _, err := enos.New(ec, nopLog); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// EnOS returns the client configuration.
func (c Config) EnOS() enos.Config {
	return enos.Config{
		APIMURL:           c.APIMURL,
		APIURL:            c.APIURL,
		AccessKey:         c.AccessKey,
		SecretKey:         c.SecretKey,
		OrgID:             c.OrgID,
		AllowInsecureHTTP: c.AllowInsecureHTTP,
		RequestTimeout:    c.RequestTimeout,
		RefreshAhead:      c.RefreshAhead,
		// MaxMessageBytes stays 0 (the client's default) when unset, as
		// in a Config built in code.
		MaxMessageBytes: c.MaxMessageBytes,
	}
}
