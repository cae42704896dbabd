package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// environ is snoti-sim's environment: the variables every service reads and
// its own.
type environ struct {
	config.Base
	Config
}

// config returns the typed configuration run takes.
func (e environ) config() Config {
	c := e.Config
	c.Base = e.Base.Service()
	return c
}

// Config is snoti-sim's configuration. The defaults accept the v1
// enterprise sim-enterprise/sim-secret and the v2 product of the EV
// charger example with auth sim-auth-id/sim-auth-secret, subkey "main"
// (client-products.json is the matching SNOTI_PRODUCTS_FILE for a client).
type Config struct {
	service.Base

	Addr string `envconfig:"SNOTI_SIM_ADDR" default:"127.0.0.1:2017" desc:"TLS listen address (0.0.0.0:2017 to serve other hosts)"`
	// ControlAddr serves the control API (/sim/ledger, /sim/faults, …) on
	// its own port, apart from /metrics: whoever may scrape metrics may not
	// inject faults.
	ControlAddr string `envconfig:"SNOTI_SIM_CONTROL_ADDR" default:"127.0.0.1:8081" desc:"HTTP address of the /sim/ control API (ledger, connections, faults, events)"`
	// CertFile and KeyFile serve a given certificate; otherwise a
	// self-signed one is generated for Hosts and written to CAOut.
	CertFile string   `envconfig:"SNOTI_SIM_CERT_FILE" desc:"serve this certificate (with SNOTI_SIM_KEY_FILE)"`
	KeyFile  string   `envconfig:"SNOTI_SIM_KEY_FILE" desc:"key of SNOTI_SIM_CERT_FILE"`
	Hosts    []string `envconfig:"SNOTI_SIM_HOSTS" default:"localhost,127.0.0.1,::1" desc:"names of the generated self-signed certificate"`
	// CAOut receives the server certificate (PEM), for SNOTI_CA_FILE.
	CAOut string `envconfig:"SNOTI_SIM_CA_OUT" default:".run/snoti-sim/ca.pem" desc:"where the certificate is written, for a client's SNOTI_CA_FILE"`

	EnterpriseID     string `envconfig:"SNOTI_SIM_ENTERPRISE_ID" default:"sim-enterprise" desc:"v1 enterprise id"`
	EnterpriseSecret string `envconfig:"SNOTI_SIM_ENTERPRISE_SECRET" default:"sim-secret" desc:"v1 enterprise secret"`

	// The Gizwits Enterprise API of the same simulated cloud: token,
	// datapoint and control calls for the enterprise above.
	EnterpriseAPIAddr string `envconfig:"SNOTI_SIM_ENTERPRISE_API_ADDR" default:"127.0.0.1:8082" desc:"HTTP address of the Gizwits Enterprise API emulator (token, datapoint, control); empty: off"`
	ProductSecret     string `envconfig:"SNOTI_SIM_PRODUCT_SECRET" default:"sim-product-secret" desc:"product secret of every product, for Enterprise API tokens"`
	// ProductsFile lists v2 products as a JSON array of {product_key,
	// auth_id, auth_secret, subkeys, definition_file}; definition_file is
	// relative to the products file. Empty: one default product.
	ProductsFile string `envconfig:"SNOTI_SIM_PRODUCTS_FILE" desc:"v2 products: JSON array of {product_key, auth_id, auth_secret, subkeys, definition_file}"`

	DeliveryIDs string        `envconfig:"SNOTI_SIM_DELIVERY_IDS" default:"number" desc:"number, bignum (beyond 2^53), string or mixed"`
	MsgIDShare  float64       `envconfig:"SNOTI_SIM_MSG_ID_SHARE" default:"0.5" desc:"share of v2 pushes with a msg_id, 0..1 (never in v1)"`
	Trace       bool          `envconfig:"SNOTI_SIM_TRACE" default:"false" desc:"add sim_seq (the simulator's event number) to every push; the real server has no such field"`
	IdleTimeout time.Duration `envconfig:"SNOTI_SIM_IDLE_TIMEOUT" default:"5m" desc:"a client silent this long gets \"No Heartbeat!\" and is dropped"`
	LedgerSize  int           `envconfig:"SNOTI_SIM_LEDGER_SIZE" default:"262144" desc:"ledger entries kept"`
	MaxBacklog  int           `envconfig:"SNOTI_SIM_MAX_BACKLOG" default:"100000" desc:"messages waiting per queue before the oldest expire"`

	Devices   int     `envconfig:"SNOTI_SIM_DEVICES" default:"100" desc:"virtual devices (0: no fleet)"`
	Rate      float64 `envconfig:"SNOTI_SIM_RATE" default:"100" desc:"total events per second (0: as fast as clients take them)"`
	MaxEvents uint64  `envconfig:"SNOTI_SIM_MAX_EVENTS" default:"0" desc:"stop the fleet after this many events (0: never)"`
	Seed      uint64  `envconfig:"SNOTI_SIM_SEED" default:"0" desc:"reproducible event sequence (0: random)"`
	EventMix  string  `envconfig:"SNOTI_SIM_EVENT_MIX" default:"all" desc:"all (every event type of the doc), default (the six v1 types) or type:weight,... e.g. device_status_kv:10,device_bind:1"`

	DropEvery       int           `envconfig:"SNOTI_SIM_DROP_EVERY" default:"0" desc:"drop a connection after every N pushes"`
	DropProbability float64       `envconfig:"SNOTI_SIM_DROP_PROBABILITY" default:"0" desc:"drop a connection after a push with this chance"`
	Delay           time.Duration `envconfig:"SNOTI_SIM_DELAY" default:"0s" desc:"wait before each push"`
	MalformedEvery  int           `envconfig:"SNOTI_SIM_MALFORMED_EVERY" default:"0" desc:"a malformed line after every N pushes"`
	OverlongEvery   int           `envconfig:"SNOTI_SIM_OVERLONG_EVERY" default:"0" desc:"pad every Nth push to SNOTI_SIM_OVERLONG_BYTES"`
	OverlongBytes   int           `envconfig:"SNOTI_SIM_OVERLONG_BYTES" default:"0" desc:"length of padded pushes (0: 1 MiB + 1 KiB)"`
	NoPong          bool          `envconfig:"SNOTI_SIM_NO_PONG" default:"false" desc:"leave pings unanswered"`
	StallOnStaleAck bool          `envconfig:"SNOTI_SIM_STALL_ON_STALE_ACK" default:"false" desc:"a connection that ACKs an id it was never sent gets no more pushes"`
}

// defaultProductKey is the product of shared/examples' EV charger.
const defaultProductKey = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// Validate reports every invalid variable at once; the simulator's own
// rules are checked by snotisim.New with the built configuration.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("SNOTI_SIM_ADDR=%q: must be host:port, e.g. 127.0.0.1:2017", c.Addr))
	}
	if c.EnterpriseAPIAddr != "" {
		if _, _, err := net.SplitHostPort(c.EnterpriseAPIAddr); err != nil {
			errs = append(errs, fmt.Errorf("SNOTI_SIM_ENTERPRISE_API_ADDR=%q: must be host:port, e.g. 127.0.0.1:8082, or empty to turn the Enterprise API off", c.EnterpriseAPIAddr))
		}
		if c.ProductSecret == "" {
			errs = append(errs, errors.New("SNOTI_SIM_PRODUCT_SECRET is empty: set one, or SNOTI_SIM_ENTERPRISE_API_ADDR= to turn the Enterprise API off"))
		}
	}
	if _, _, err := net.SplitHostPort(c.ControlAddr); err != nil {
		errs = append(errs, fmt.Errorf("SNOTI_SIM_CONTROL_ADDR=%q: must be host:port, e.g. 127.0.0.1:8081", c.ControlAddr))
	}
	if c.MsgIDShare < 0 || c.MsgIDShare > 1 {
		errs = append(errs, fmt.Errorf("SNOTI_SIM_MSG_ID_SHARE=%v: must be 0..1", c.MsgIDShare))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SNOTI_SIM_IDLE_TIMEOUT=%s: must be a positive duration such as 5m", c.IdleTimeout))
	}
	if _, err := parseMix(c.EventMix); err != nil {
		errs = append(errs, err)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("SNOTI_SIM_CERT_FILE and SNOTI_SIM_KEY_FILE: set both or neither"))
	}
	if _, err := c.simConfig(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// productEntry is one product of SNOTI_SIM_PRODUCTS_FILE.
type productEntry struct {
	ProductKey     string   `json:"product_key"`
	AuthID         string   `json:"auth_id"`
	AuthSecret     string   `json:"auth_secret"`
	Subkeys        []string `json:"subkeys"`
	DefinitionFile string   `json:"definition_file"`
}

// simConfig builds the simulator's configuration and checks it.
func (c Config) simConfig() (snotisim.Config, error) {
	mix, _ := parseMix(c.EventMix) // reported by Validate
	msgIDShare := c.MsgIDShare
	if msgIDShare == 0 {
		msgIDShare = -1 // snotisim: 0 would mean its default
	}
	sc := snotisim.Config{
		Addr: c.Addr, CertFile: c.CertFile, KeyFile: c.KeyFile, Hosts: c.Hosts,
		Enterprises: []snotisim.Enterprise{{ID: c.EnterpriseID, Secret: c.EnterpriseSecret}},
		DeliveryIDs: c.DeliveryIDs, LedgerSize: c.LedgerSize, MaxBacklog: c.MaxBacklog,
		MsgIDShare: msgIDShare, Trace: c.Trace, IdleTimeout: c.IdleTimeout,
		Fleet: snotisim.Fleet{Devices: c.Devices, Rate: c.Rate, MaxEvents: c.MaxEvents, Seed: c.Seed, Mix: mix},
		Faults: snotisim.Faults{
			DropEvery: c.DropEvery, DropProbability: c.DropProbability, Delay: c.Delay,
			MalformedEvery: c.MalformedEvery, OverlongEvery: c.OverlongEvery, OverlongBytes: c.OverlongBytes, NoPong: c.NoPong,
			StallOnStaleAck: c.StallOnStaleAck,
		},
	}
	if c.ProductsFile == "" {
		sc.Products = []snotisim.Product{{ProductKey: defaultProductKey, AuthID: "sim-auth-id", AuthSecret: "sim-auth-secret", Subkeys: []string{"main"}}}
	} else {
		ps, err := loadProducts(c.ProductsFile)
		if err != nil {
			return sc, err
		}
		sc.Products = ps
	}
	if err := sc.Validate(); err != nil {
		return sc, fmt.Errorf("SNOTI_SIM_*: %w", err)
	}
	return sc, nil
}

func loadProducts(path string) ([]snotisim.Product, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SNOTI_SIM_PRODUCTS_FILE=%q: reading: %w", path, err)
	}
	var entries []productEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("SNOTI_SIM_PRODUCTS_FILE=%q: must be a JSON array of {product_key, auth_id, auth_secret, subkeys, definition_file}: %w", path, err)
	}
	var out []snotisim.Product
	for i, e := range entries {
		p := snotisim.Product{ProductKey: e.ProductKey, AuthID: e.AuthID, AuthSecret: e.AuthSecret, Subkeys: e.Subkeys}
		if e.DefinitionFile != "" {
			def := e.DefinitionFile
			if !filepath.IsAbs(def) {
				def = filepath.Join(filepath.Dir(path), def)
			}
			if p.Definition, err = os.ReadFile(def); err != nil {
				return nil, fmt.Errorf("SNOTI_SIM_PRODUCTS_FILE=%q: products[%d].definition_file: %w", path, i, err)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// parseMix reads SNOTI_SIM_EVENT_MIX: "all", "default" or
// type:weight,… (the simulator checks the types).
func parseMix(s string) (map[string]float64, error) {
	switch strings.TrimSpace(s) {
	case "all", "":
		return snotisim.AllEventsMix(), nil
	case "default":
		return snotisim.DefaultMix(), nil
	}
	mix := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), ":")
		w, err := strconv.ParseFloat(weight, 64)
		if !ok || err != nil || name == "" {
			return nil, fmt.Errorf("SNOTI_SIM_EVENT_MIX=%q: %q must be event_type:weight, e.g. device_status_kv:10 (or the whole value all or default)", s, part)
		}
		mix[name] = w
	}
	return mix, nil
}
