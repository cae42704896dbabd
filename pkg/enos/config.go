package enos

import (
	"errors"
	"net/http"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
)

// Defaults applied by New.
const (
	// DefaultRefreshAhead is how long before expiry a token is refreshed.
	DefaultRefreshAhead = 10 * time.Minute
	// DefaultMaxMessageBytes is the default size limit of one enos-message
	// part. EnOS documents the part as at most "512 KB", which may mean
	// 512,000 or 524,288 bytes: the default is below both, leaving room.
	DefaultMaxMessageBytes = 500_000
	// MaxMessageBytes is the largest limit accepted: the generous reading
	// of "512 KB" (524,288 bytes). Raise the limit only where EnOS was seen
	// to accept it.
	MaxMessageBytes = 512 * 1024
	// MinMessageBytes is the smallest limit accepted.
	MinMessageBytes = 1024
	// DefaultRequestTimeout bounds one HTTP request.
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures a Client. Validation errors name its fields (the EnOS
// forwarder reads them from the ENOS_* variables named below).
type Config struct {
	// APIMURL is the token service base URL (ENOS_APIM_URL), for example
	// https://apim-gateway; "/apim-token-service/v2.0/token/get" is appended.
	APIMURL string
	// APIURL is the integration base URL (ENOS_API_URL), for example
	// https://iot-http-integration-env; "/connect-service/v2.1/integration"
	// is appended.
	APIURL string
	// AccessKey and SecretKey are the service account credentials
	// (ENOS_ACCESS_KEY, ENOS_SECRET_KEY).
	AccessKey string
	SecretKey string
	// OrgID is the EnOS organisation id (ENOS_ORG_ID).
	OrgID string
	// AllowInsecureHTTP accepts http:// URLs to hosts that are not
	// loopback (ENOS_ALLOW_INSECURE_HTTP), for a sink emulator on a
	// trusted network: the signature and the access token travel in clear.
	AllowInsecureHTTP bool

	// RefreshAhead is how long before its expiry a token is refreshed
	// (default 10 minutes). A value at least as long as the token lifetime
	// refreshes before every request.
	RefreshAhead time.Duration
	// MaxMessageBytes is the largest enos-message JSON sent in one request
	// (default DefaultMaxMessageBytes, 1024..524288). An entry that alone
	// does not fit is never sent: it gets a permanent ErrEntryTooLarge.
	MaxMessageBytes int
	// RequestTimeout bounds each HTTP request (default 30 s); a request that
	// times out is retryable.
	RequestTimeout time.Duration
	// HTTPClient sends the requests (default: an http.Client keeping up to
	// 64 idle connections to the host, for concurrent callers). Its own
	// Timeout, if any, also applies. New uses a copy that follows no
	// redirect: requests carry the access token in a custom header, which
	// Go would forward to any host a redirect names.
	HTTPClient *http.Client
}

func (c *Config) applyDefaults() {
	if c.RefreshAhead == 0 {
		c.RefreshAhead = DefaultRefreshAhead
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = sinkhttp.NewClient()
	} else {
		c.HTTPClient = sinkhttp.NoRedirects(c.HTTPClient)
	}
}

func (c *Config) validate() error {
	var errs []error
	for _, u := range []struct{ name, value string }{
		{"APIMURL", c.APIMURL},
		{"APIURL", c.APIURL},
	} {
		switch err := sinkhttp.CheckURL(u.value, c.AllowInsecureHTTP); {
		case errors.Is(err, sinkhttp.ErrPlainHTTP):
			errs = append(errs, fielderr.Bad(u.name, u.value, "http:// would send the EnOS credentials in clear: use https://, or set AllowInsecureHTTP=true for an emulator on a trusted network"))
		case err != nil:
			errs = append(errs, fielderr.Wrap(u.name, u.value, err))
		}
	}
	if c.AccessKey == "" {
		errs = append(errs, fielderr.New("AccessKey", "is empty: set the service account access key"))
	}
	if c.SecretKey == "" {
		errs = append(errs, fielderr.New("SecretKey", "is empty: set the service account secret key"))
	}
	if c.OrgID == "" {
		errs = append(errs, fielderr.New("OrgID", "is empty: set the EnOS organisation id"))
	}
	if c.RefreshAhead < 0 {
		errs = append(errs, fielderr.Bad("RefreshAhead", c.RefreshAhead, "must not be negative"))
	}
	if c.MaxMessageBytes < MinMessageBytes || c.MaxMessageBytes > MaxMessageBytes {
		errs = append(errs, fielderr.Bad("MaxMessageBytes", c.MaxMessageBytes, `must be %d..%d (default %d, below both readings of EnOS's "512 KB")`,
			MinMessageBytes, MaxMessageBytes, DefaultMaxMessageBytes))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fielderr.Bad("RequestTimeout", c.RequestTimeout, "must not be negative"))
	}
	return errors.Join(errs...)
}
