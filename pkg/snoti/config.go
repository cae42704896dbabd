package snoti

import (
	"errors"
	"net"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
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

// Config configures one SNoti connection. Validation errors name its
// fields; the ingest reads them from the SNOTI_* variables.
type Config struct {
	// Addr is host:port of the SNoti endpoint, e.g. snoti.gizwits.com:2017.
	Addr string
	// Protocol is v1 (enterprise login) or v2 (product login).
	Protocol string

	// EnterpriseID and EnterpriseSecret are the v1 credentials.
	EnterpriseID     string
	EnterpriseSecret string

	// ProductsFile is a JSON file listing the v2 products (see LoadProducts).
	// Products, when not empty, is used instead of the file.
	ProductsFile string
	Products     []Product

	// Prefetch is how many pushes the server may leave un-ACKed (1..32767).
	Prefetch int

	// CAFile is a PEM bundle to trust instead of the system roots.
	CAFile string
	// ServerName overrides the host name checked in the server certificate.
	ServerName string
	// InsecureSkipVerify disables certificate verification. It exists for
	// broken test setups only and is logged as a warning at every connect.
	InsecureSkipVerify bool

	// Heartbeat is how long the client may stay without writing before it
	// sends a ping. SNoti requires a message at least every 5 minutes.
	Heartbeat time.Duration
	// PongTimeout is how long a ping may stay unanswered before the
	// connection is considered dead.
	PongTimeout time.Duration
	// LoginTimeout bounds dialing, the TLS handshake and the login reply.
	LoginTimeout time.Duration
	// WriteTimeout bounds one write to the socket.
	WriteTimeout time.Duration

	// BackoffMin and BackoffMax bound the reconnect delay, which doubles at
	// every failed attempt, with jitter, and restarts from BackoffMin after a
	// successful login.
	BackoffMin time.Duration
	BackoffMax time.Duration

	// MaxLineBytes is the longest line accepted (at least 1 MiB). Longer
	// lines are reported to Handler.HandleInvalid and skipped (an over-long
	// push whose delivery id could be read can still be ACKed). The default,
	// 4 MiB, is half the max.message.bytes bridgectl topics ensure gives
	// the topics: a record holds the line and its decoded copy.
	MaxLineBytes int
}

// withDefaults fills zero values, so a Config built in code and passed to
// New needs only the fields that matter to it. (The ingest's environment
// has the same defaults.)
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
// the field, its value and the fix. It sees the values as given: a zero
// Prefetch is an error here, while New fills zero fields of a Config
// built in code with the defaults before validating. For v2 without
// Products it reads and checks ProductsFile.
func (c Config) Validate() error {
	var errs []error
	bad := func(e *fielderr.Error) { errs = append(errs, e) }

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad(fielderr.Bad("Addr", c.Addr, "must be host:port, e.g. snoti.gizwits.com:2017"))
	}
	switch c.Protocol {
	case ProtocolV1:
		if c.EnterpriseID == "" {
			bad(fielderr.New("EnterpriseID", "is empty: required with Protocol=v1"))
		}
		if c.EnterpriseSecret == "" {
			bad(fielderr.New("EnterpriseSecret", "is empty: required with Protocol=v1"))
		}
	case ProtocolV2:
		switch {
		case len(c.Products) > 0:
			if err := ValidateProducts(c.Products); err != nil {
				errs = append(errs, err)
			}
		case c.ProductsFile == "":
			bad(fielderr.New("ProductsFile", "is empty: required with Protocol=v2 (a JSON list of products)"))
		default:
			if _, err := LoadProducts(c.ProductsFile); err != nil {
				errs = append(errs, err)
			}
		}
	default:
		bad(fielderr.Bad("Protocol", c.Protocol, "must be v1 or v2"))
	}
	if c.Prefetch < 1 || c.Prefetch > MaxPrefetch {
		bad(fielderr.Bad("Prefetch", c.Prefetch, "must be 1..%d", MaxPrefetch))
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"Heartbeat", c.Heartbeat},
		{"PongTimeout", c.PongTimeout},
		{"LoginTimeout", c.LoginTimeout},
		{"WriteTimeout", c.WriteTimeout},
		{"BackoffMin", c.BackoffMin},
		{"BackoffMax", c.BackoffMax},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad(fielderr.Bad(p.name, p.d, "must be a positive duration such as 10s"))
		}
	}
	if c.Heartbeat > 5*time.Minute {
		bad(fielderr.Bad("Heartbeat", c.Heartbeat, "must be at most 5m, SNoti closes connections silent for 5 minutes"))
	}
	if c.BackoffMax < c.BackoffMin {
		bad(fielderr.Bad("BackoffMax", c.BackoffMax, "must not be below BackoffMin=%s", c.BackoffMin))
	}
	if c.MaxLineBytes < minMaxLineBytes {
		bad(fielderr.Bad("MaxLineBytes", c.MaxLineBytes, "must be at least %d (1 MiB)", minMaxLineBytes))
	}
	return errors.Join(errs...)
}
