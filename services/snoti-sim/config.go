package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// Config is snoti-sim's configuration. The defaults accept the v1
// enterprise sim-enterprise/sim-secret and the v2 product of the EV
// charger example with auth sim-auth-id/sim-auth-secret, subkey "main"
// (client-products.json is the matching SNOTI_PRODUCTS_FILE for a client).
type Config struct {
	service.Base

	Addr string `envconfig:"SNOTI_SIM_ADDR" default:":2017"`
	// CertFile and KeyFile serve a given certificate; otherwise a
	// self-signed one is generated for Hosts and written to CAOut.
	CertFile string   `envconfig:"SNOTI_SIM_CERT_FILE"`
	KeyFile  string   `envconfig:"SNOTI_SIM_KEY_FILE"`
	Hosts    []string `envconfig:"SNOTI_SIM_HOSTS" default:"localhost,127.0.0.1,::1"`
	// CAOut receives the server certificate (PEM), for SNOTI_CA_FILE.
	CAOut string `envconfig:"SNOTI_SIM_CA_OUT" default:".run/snoti-sim/ca.pem"`

	EnterpriseID     string `envconfig:"SNOTI_SIM_ENTERPRISE_ID" default:"sim-enterprise"`
	EnterpriseSecret string `envconfig:"SNOTI_SIM_ENTERPRISE_SECRET" default:"sim-secret"`
	// ProductsFile lists v2 products as a JSON array of {product_key,
	// auth_id, auth_secret, subkeys, definition_file}; definition_file is
	// relative to the products file. Empty: one default product.
	ProductsFile string `envconfig:"SNOTI_SIM_PRODUCTS_FILE"`

	DeliveryIDs string `envconfig:"SNOTI_SIM_DELIVERY_IDS" default:"number"`
	LedgerSize  int    `envconfig:"SNOTI_SIM_LEDGER_SIZE" default:"262144"`
	MaxBacklog  int    `envconfig:"SNOTI_SIM_MAX_BACKLOG" default:"100000"`

	Devices   int     `envconfig:"SNOTI_SIM_DEVICES" default:"100"`
	Rate      float64 `envconfig:"SNOTI_SIM_RATE" default:"100"`
	MaxEvents uint64  `envconfig:"SNOTI_SIM_MAX_EVENTS" default:"0"`
	Seed      uint64  `envconfig:"SNOTI_SIM_SEED" default:"0"`

	DropEvery       int           `envconfig:"SNOTI_SIM_DROP_EVERY" default:"0"`
	DropProbability float64       `envconfig:"SNOTI_SIM_DROP_PROBABILITY" default:"0"`
	Delay           time.Duration `envconfig:"SNOTI_SIM_DELAY" default:"0s"`
	MalformedEvery  int           `envconfig:"SNOTI_SIM_MALFORMED_EVERY" default:"0"`
	OverlongEvery   int           `envconfig:"SNOTI_SIM_OVERLONG_EVERY" default:"0"`
	OverlongBytes   int           `envconfig:"SNOTI_SIM_OVERLONG_BYTES" default:"0"`
	NoPong          bool          `envconfig:"SNOTI_SIM_NO_PONG" default:"false"`
}

// defaultProductKey is the product of shared/examples' EV charger.
const defaultProductKey = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// Validate reports every invalid variable at once; the simulator's own
// rules are checked by snotisim.New with the built configuration.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("SNOTI_SIM_ADDR=%q: must be host:port, e.g. :2017", c.Addr))
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
	sc := snotisim.Config{
		Addr: c.Addr, CertFile: c.CertFile, KeyFile: c.KeyFile, Hosts: c.Hosts,
		Enterprises: []snotisim.Enterprise{{ID: c.EnterpriseID, Secret: c.EnterpriseSecret}},
		DeliveryIDs: c.DeliveryIDs, LedgerSize: c.LedgerSize, MaxBacklog: c.MaxBacklog,
		Fleet: snotisim.Fleet{Devices: c.Devices, Rate: c.Rate, MaxEvents: c.MaxEvents, Seed: c.Seed},
		Faults: snotisim.Faults{
			DropEvery: c.DropEvery, DropProbability: c.DropProbability, Delay: c.Delay,
			MalformedEvery: c.MalformedEvery, OverlongEvery: c.OverlongEvery, OverlongBytes: c.OverlongBytes, NoPong: c.NoPong,
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
