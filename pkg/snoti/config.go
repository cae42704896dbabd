package snoti

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Protocol generations of SNoti.
const (
	ProtocolV1 = "v1" // enterprise login, enterprise_* commands
	ProtocolV2 = "v2" // product login, subscriptions, remote control
)

// MaxPrefetch is the largest prefetch_count SNoti accepts.
const MaxPrefetch = 32767

// minMaxLineBytes is the floor for Config.MaxLineBytes: SNoti documents no
// maximum line length and public clients are known to break on long lines.
const minMaxLineBytes = 1 << 20

// DefaultMaxLineBytes is Config.MaxLineBytes when unset (4 MiB).
const DefaultMaxLineBytes = 4 << 20

// Config configures one SNoti connection. The envconfig tags carry the full
// variable names, so embed Config anonymously in a service's spec (a named
// field would prefix the names).
type Config struct {
	// Addr is host:port of the SNoti endpoint, e.g. snoti.gizwits.com:2017.
	Addr string `envconfig:"SNOTI_ADDR" required:"true"`
	// Protocol is v1 (enterprise login) or v2 (product login).
	Protocol string `envconfig:"SNOTI_PROTOCOL" default:"v2"`

	// EnterpriseID and EnterpriseSecret are the v1 credentials.
	EnterpriseID     string `envconfig:"SNOTI_ENTERPRISE_ID"`
	EnterpriseSecret string `envconfig:"SNOTI_ENTERPRISE_SECRET" file:"true"`

	// ProductsFile is a JSON file listing the v2 products (see LoadProducts).
	// Products, when not empty, is used instead of the file.
	ProductsFile string    `envconfig:"SNOTI_PRODUCTS_FILE"`
	Products     []Product `ignored:"true"`

	// Prefetch is how many pushes the server may leave un-ACKed (1..32767).
	Prefetch int `envconfig:"SNOTI_PREFETCH" default:"50"`

	// CAFile is a PEM bundle to trust instead of the system roots.
	CAFile string `envconfig:"SNOTI_CA_FILE"`
	// ServerName overrides the host name checked in the server certificate.
	ServerName string `envconfig:"SNOTI_SERVER_NAME"`
	// InsecureSkipVerify disables certificate verification. It exists for
	// broken test setups only and is logged as a warning at every connect.
	InsecureSkipVerify bool `envconfig:"SNOTI_INSECURE_SKIP_VERIFY" default:"false"`

	// Heartbeat is how long the client may stay without writing before it
	// sends a ping. SNoti requires a message at least every 5 minutes.
	Heartbeat time.Duration `envconfig:"SNOTI_HEARTBEAT" default:"60s"`
	// PongTimeout is how long a ping may stay unanswered before the
	// connection is considered dead.
	PongTimeout time.Duration `envconfig:"SNOTI_PONG_TIMEOUT" default:"10s"`
	// LoginTimeout bounds dialing, the TLS handshake and the login reply.
	LoginTimeout time.Duration `envconfig:"SNOTI_LOGIN_TIMEOUT" default:"10s"`
	// WriteTimeout bounds one write to the socket.
	WriteTimeout time.Duration `envconfig:"SNOTI_WRITE_TIMEOUT" default:"10s"`

	// BackoffMin and BackoffMax bound the reconnect delay, which doubles at
	// every failed attempt, with jitter, and restarts from BackoffMin after a
	// successful login.
	BackoffMin time.Duration `envconfig:"SNOTI_BACKOFF_MIN" default:"1s"`
	BackoffMax time.Duration `envconfig:"SNOTI_BACKOFF_MAX" default:"60s"`

	// MaxLineBytes is the longest line accepted (at least 1 MiB). Longer
	// lines are reported to Handler.HandleInvalid and skipped (an over-long
	// push whose delivery id could be read can still be ACKed). The default,
	// 4 MiB, is half the max.message.bytes bridgectl topics ensure gives
	// the topics: a record holds the line and its decoded copy.
	MaxLineBytes int `envconfig:"SNOTI_MAX_LINE_BYTES" default:"4194304"`
}

// withDefaults fills zero values, so a Config built in code and passed to
// New needs only the fields that matter to it. (envconfig fills the same
// defaults from the tags.)
func (c Config) withDefaults() Config {
	if c.Protocol == "" {
		c.Protocol = ProtocolV2
	}
	if c.Prefetch == 0 {
		c.Prefetch = 50
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 60 * time.Second
	}
	if c.PongTimeout == 0 {
		c.PongTimeout = 10 * time.Second
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = 10 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 60 * time.Second
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	return c
}

// Validate reports every problem of the configuration at once, each naming
// the variable, its value and the fix. It sees the values as loaded: a zero
// SNOTI_PREFETCH is an error here, while New fills zero fields of a Config
// built in code with the defaults before validating. For v2 without
// Products it reads and checks ProductsFile.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("SNOTI_ADDR=%q: must be host:port, e.g. snoti.gizwits.com:2017", c.Addr)
	}
	switch c.Protocol {
	case ProtocolV1:
		if c.EnterpriseID == "" {
			bad("SNOTI_ENTERPRISE_ID is empty: required with SNOTI_PROTOCOL=v1")
		}
		if c.EnterpriseSecret == "" {
			bad("SNOTI_ENTERPRISE_SECRET is empty: required with SNOTI_PROTOCOL=v1")
		}
	case ProtocolV2:
		switch {
		case len(c.Products) > 0:
			if err := ValidateProducts(c.Products); err != nil {
				errs = append(errs, err)
			}
		case c.ProductsFile == "":
			bad("SNOTI_PRODUCTS_FILE is empty: required with SNOTI_PROTOCOL=v2 (a JSON list of products)")
		default:
			if _, err := LoadProducts(c.ProductsFile); err != nil {
				errs = append(errs, err)
			}
		}
	default:
		bad("SNOTI_PROTOCOL=%q: must be v1 or v2", c.Protocol)
	}
	if c.Prefetch < 1 || c.Prefetch > MaxPrefetch {
		bad("SNOTI_PREFETCH=%d: must be 1..%d", c.Prefetch, MaxPrefetch)
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"SNOTI_HEARTBEAT", c.Heartbeat},
		{"SNOTI_PONG_TIMEOUT", c.PongTimeout},
		{"SNOTI_LOGIN_TIMEOUT", c.LoginTimeout},
		{"SNOTI_WRITE_TIMEOUT", c.WriteTimeout},
		{"SNOTI_BACKOFF_MIN", c.BackoffMin},
		{"SNOTI_BACKOFF_MAX", c.BackoffMax},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad("%s=%s: must be a positive duration such as 10s", p.name, p.d)
		}
	}
	if c.Heartbeat > 5*time.Minute {
		bad("SNOTI_HEARTBEAT=%s: must be at most 5m, SNoti closes connections silent for 5 minutes", c.Heartbeat)
	}
	if c.BackoffMax < c.BackoffMin {
		bad("SNOTI_BACKOFF_MAX=%s: must not be below SNOTI_BACKOFF_MIN=%s", c.BackoffMax, c.BackoffMin)
	}
	if c.MaxLineBytes < minMaxLineBytes {
		bad("SNOTI_MAX_LINE_BYTES=%d: must be at least %d (1 MiB)", c.MaxLineBytes, minMaxLineBytes)
	}
	return errors.Join(errs...)
}
