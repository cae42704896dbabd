package enosfwd

import (
	"errors"
	"time"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Config is what the EnOS forwarder and its replays need beside Kafka: the
// EnOS service account and endpoints, the mapping file and the sending
// rules. Validation errors name its fields; the forwarder and bridgectl
// read them from the ENOS_* variables (pkg/config/sinkenv.EnOS).
type Config struct {
	APIMURL     string
	APIURL      string
	AccessKey   string
	SecretKey   string
	OrgID       string
	MappingFile string
	// AllowInsecureHTTP accepts http:// URLs to hosts that are not
	// loopback (an emulator on a trusted network).
	AllowInsecureHTTP bool
	// BackfillAge: records older than this when sent go out as backfill
	// (isRealtimeIntegration:false); 0 sends everything as real-time
	// (replays are always backfill).
	BackfillAge    time.Duration
	RequestTimeout time.Duration
	// RefreshAhead is how long before expiry the access token is renewed.
	RefreshAhead time.Duration
	// MaxMessageBytes bounds the enos-message part of one request. EnOS
	// documents "512 KB" without saying 512,000 or 524,288 bytes; 0 is
	// the client's default, below both.
	MaxMessageBytes int
}

// Validate checks every field and the mapping file, naming the field, the
// value and the fix. The secret key is never echoed.
func (c *Config) Validate() error {
	var errs []error
	if c.MappingFile == "" {
		errs = append(errs, fielderr.New("MappingFile", "is empty: set it to the JSON file mapping Gizwits products to EnOS (see services/enos-forwarder/mapping.example.json)"))
	} else if _, err := LoadMapping(c.MappingFile); err != nil {
		errs = append(errs, fielderr.Wrap("MappingFile", c.MappingFile, err))
	}
	if c.BackfillAge < 0 {
		errs = append(errs, fielderr.Bad("BackfillAge", c.BackfillAge, "must be 0 (never by age) or positive, e.g. 1h"))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fielderr.Bad("RequestTimeout", c.RequestTimeout, "must be positive, e.g. 30s"))
	}
	if c.RefreshAhead < 0 {
		errs = append(errs, fielderr.Bad("RefreshAhead", c.RefreshAhead, "must not be negative, e.g. 10m"))
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
		// MaxMessageBytes stays 0 (the client's default) when unset.
		MaxMessageBytes: c.MaxMessageBytes,
	}
}
