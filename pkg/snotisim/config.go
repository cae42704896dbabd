package snotisim

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a Server. Zero values get defaults; see DefaultConfig
// for a ready-to-run single-product setup.
type Config struct {
	// Addr is the TLS listen address; "127.0.0.1:0" picks a free port.
	Addr string
	// CertFile and KeyFile give the server certificate; when empty a
	// self-signed one is generated for Hosts (default localhost, 127.0.0.1, ::1).
	CertFile, KeyFile string
	Hosts             []string

	// Enterprises are the v1 accounts; each gets one queue.
	Enterprises []Enterprise
	// Products are the v2 products and their credentials.
	Products []Product

	// DeliveryIDs selects the JSON type of delivery ids: IDNumber (default),
	// IDBigNumber (integers beyond 2^53), IDString, or IDMixed (rotating).
	DeliveryIDs string

	// LoginTimeout closes connections that do not log in within it (10s).
	LoginTimeout time.Duration
	// IdleTimeout: a logged-in connection the client sends nothing on for
	// this long gets the bare line "No Heartbeat!" and is closed, as the
	// real server does after 5 minutes (the default).
	IdleTimeout time.Duration

	// Trace adds "sim_seq" (the simulator's sequence number of the event)
	// to every push, so a test can follow an event end to end. The real
	// server sends no such field: off by default.
	Trace bool
	// MsgIDShare is the share of v2 messages whose pushes carry a msg_id
	// (the doc makes it optional; v1 never has one): 0 means the default
	// 0.5, a negative value none, 1 all. The choice is made per message
	// and kept across redeliveries.
	MsgIDShare float64
	// LedgerSize bounds the ledger: beyond it the oldest entries are
	// forgotten (default 1<<18; up to twice as many are held).
	LedgerSize int
	// MaxBacklog bounds the messages waiting in each queue (default
	// 100000): beyond it the oldest waiting message expires (counted in
	// Summary.Expired). A Fleet pauses while every queue is full.
	MaxBacklog int
	// MaxLineBytes bounds the lines clients may send (default 1 MiB).
	MaxLineBytes int

	Faults Faults
	Fleet  Fleet
}

// Enterprise is a v1 account. ProductKeys limits its queue to those
// products; empty means every product.
type Enterprise struct {
	ID          string
	Secret      string
	ProductKeys []string
}

// Product is a v2 product. Subkeys are queues declared at start, so
// messages are stored for them before any client logs in; queues of other
// subkeys are created at their first login.
type Product struct {
	ProductKey string
	AuthID     string
	AuthSecret string
	Subkeys    []string
	// Definition is the product's data-point definition (Gizwits console
	// export); nil uses the embedded EV charger example.
	Definition []byte
}

// Kinds of delivery id.
const (
	IDNumber    = "number"
	IDBigNumber = "bignum"
	IDString    = "string"
	IDMixed     = "mixed"
)

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if len(c.Hosts) == 0 {
		c.Hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	if c.DeliveryIDs == "" {
		c.DeliveryIDs = IDNumber
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.MsgIDShare == 0 {
		c.MsgIDShare = 0.5
	}
	if c.LedgerSize == 0 {
		c.LedgerSize = 1 << 18
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = 100000
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = 1 << 20
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.DeliveryIDs {
	case IDNumber, IDBigNumber, IDString, IDMixed:
	default:
		bad("delivery ids %q: must be number, bignum, string or mixed", c.DeliveryIDs)
	}
	if c.MsgIDShare > 1 {
		bad("msg_id share %v: must be at most 1", c.MsgIDShare)
	}
	if c.IdleTimeout < 0 || c.LoginTimeout < 0 {
		bad("login and idle timeouts must not be negative")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		bad("cert file %q and key file %q: give both or neither", c.CertFile, c.KeyFile)
	}
	if len(c.Enterprises) == 0 && len(c.Products) == 0 {
		bad("no enterprise and no product: configure at least one")
	}
	seen := map[string]bool{}
	for i, p := range c.Products {
		if p.ProductKey == "" || p.AuthID == "" || p.AuthSecret == "" {
			bad("products[%d]: product key, auth id and auth secret are required", i)
		}
		if seen[p.ProductKey] {
			bad("products[%d]: product key %q listed twice", i, p.ProductKey)
		}
		seen[p.ProductKey] = true
		for _, sk := range p.Subkeys {
			if !subkeyPattern.MatchString(sk) {
				bad("products[%d]: subkey %q: must be 1-32 of [A-Za-z0-9_]", i, sk)
			}
		}
	}
	for i, e := range c.Enterprises {
		if e.ID == "" || e.Secret == "" {
			bad("enterprises[%d]: id and secret are required", i)
		}
	}
	if err := c.Faults.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Fleet.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
