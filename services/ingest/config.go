package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/config/registryenv"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// environ is the ingest's environment: the variables every service reads,
// the SNOTI_* ones and its own (see README, "Configuration").
type environ struct {
	SchemaRegistry registryenv.SchemaRegistry
	config.Base
	SNoti snotiEnv
	Own   ownVars
}

// ownVars is Config as loaded: the same fields and tags, without Config's
// methods, so that Load does not validate the ingest's own variables
// before the SNOTI_* ones they depend on are in place; environ.Validate
// validates the whole.
type ownVars Config

// config returns the typed configuration run takes.
func (e environ) config() Config {
	c := Config(e.Own)
	c.Base, c.Config = e.Base.Service(), e.SNoti.Config()
	c.SchemaRegistry = e.SchemaRegistry.Config()
	return c
}

// memoryLimitMiB is the ingest's soft memory limit when GOMEMLIMIT is unset
// (config.MemoryLimiter), below the other services' 64: at prefetch 32767
// the live heap is about 25–30 MB (the queued lines with their small
// deferred pushes, a batch of records), and 52 keeps the peak RSS near 62
// MiB, where 64 let it reach 73 MiB.
const memoryLimitMiB = 52

// DefaultMemoryLimitMiB makes the ingest a config.MemoryLimiter.
func (e *environ) DefaultMemoryLimitMiB() int64 { return memoryLimitMiB }

var _ config.MemoryLimiter = (*environ)(nil)

// Validate checks the ingest's own variables, with the SNoti settings in
// place (the command sender defaults by protocol).
func (e *environ) Validate() error {
	c := e.config()
	err := c.Validate()
	e.Own = ownVars(c) // Validate fills the command sender's defaults
	return err
}

// snotiEnv is the SNOTI_* variables, as snoti.Config's fields of the same
// names (its Products are given in code only).
type snotiEnv struct {
	Addr               string        `envconfig:"SNOTI_ADDR" required:"true"`
	Protocol           string        `envconfig:"SNOTI_PROTOCOL" default:"v2"`
	EnterpriseID       string        `envconfig:"SNOTI_ENTERPRISE_ID"`
	EnterpriseSecret   string        `envconfig:"SNOTI_ENTERPRISE_SECRET" file:"true"`
	ProductsFile       string        `envconfig:"SNOTI_PRODUCTS_FILE"`
	Prefetch           int           `envconfig:"SNOTI_PREFETCH" default:"50"`
	CAFile             string        `envconfig:"SNOTI_CA_FILE"`
	ServerName         string        `envconfig:"SNOTI_SERVER_NAME"`
	InsecureSkipVerify bool          `envconfig:"SNOTI_INSECURE_SKIP_VERIFY" default:"false"`
	Heartbeat          time.Duration `envconfig:"SNOTI_HEARTBEAT" default:"60s"`
	PongTimeout        time.Duration `envconfig:"SNOTI_PONG_TIMEOUT" default:"10s"`
	LoginTimeout       time.Duration `envconfig:"SNOTI_LOGIN_TIMEOUT" default:"10s"`
	WriteTimeout       time.Duration `envconfig:"SNOTI_WRITE_TIMEOUT" default:"10s"`
	BackoffMin         time.Duration `envconfig:"SNOTI_BACKOFF_MIN" default:"1s"`
	BackoffMax         time.Duration `envconfig:"SNOTI_BACKOFF_MAX" default:"60s"`
	MaxLineBytes       int           `envconfig:"SNOTI_MAX_LINE_BYTES" default:"4194304"`
}

// Config returns the typed SNoti configuration.
func (s snotiEnv) Config() snoti.Config {
	return snoti.Config{
		Addr: s.Addr, Protocol: s.Protocol, EnterpriseID: s.EnterpriseID, EnterpriseSecret: s.EnterpriseSecret,
		ProductsFile: s.ProductsFile, Prefetch: s.Prefetch, CAFile: s.CAFile, ServerName: s.ServerName,
		InsecureSkipVerify: s.InsecureSkipVerify, Heartbeat: s.Heartbeat, PongTimeout: s.PongTimeout,
		LoginTimeout: s.LoginTimeout, WriteTimeout: s.WriteTimeout, BackoffMin: s.BackoffMin, BackoffMax: s.BackoffMax,
		MaxLineBytes: s.MaxLineBytes,
	}
}

// Validate reports every problem of the SNOTI_* variables (the products
// file included), each naming the variable.
func (s snotiEnv) Validate() error { return config.Rename(s.Config().Validate(), s) }

// Config is the ingest's configuration. Its own fields are read from the
// variables in their tags; Base and the SNoti Config from the shared and
// the SNOTI_* ones (environ).
type Config struct {
	service.Base
	// SchemaRegistry: from SCHEMA_REGISTRY_* (environ; optional, see run: schemaregistry.NewCodec).
	SchemaRegistry schemaregistry.Config
	snoti.Config

	Connections  int    `envconfig:"SNOTI_CONNECTIONS" default:"1"`
	TopicEvents  string `envconfig:"TOPIC_EVENTS" default:"snoti.events.v1"`
	TopicInvalid string `envconfig:"TOPIC_INVALID" default:"snoti.invalid.v1"`
	// BatchSize is the most records one Kafka write carries.
	BatchSize int `envconfig:"INGEST_BATCH_SIZE" default:"2000"`
	// RetryBackoffMax caps the delay between attempts to write a batch
	// Kafka refused; nothing is ACKed meanwhile.
	RetryBackoffMax time.Duration `envconfig:"INGEST_RETRY_BACKOFF_MAX" default:"5s"`

	// Commands is the command sender (device.commands.v1 → devices).
	Commands Commands
}

// Validate checks the ingest's own variables and the command sender's,
// which depend on the SNoti protocol and credentials (the parts check
// theirs).
func (c *Config) Validate() error {
	var errs []error
	if c.Connections < 1 || c.Connections > 64 {
		errs = append(errs, fmt.Errorf("SNOTI_CONNECTIONS=%d: must be 1..64", c.Connections))
	}
	if c.TopicEvents == "" {
		errs = append(errs, errors.New("TOPIC_EVENTS is empty: set a topic name, e.g. snoti.events.v1"))
	}
	if c.TopicInvalid == "" {
		errs = append(errs, errors.New("TOPIC_INVALID is empty: set a topic name, e.g. snoti.invalid.v1"))
	}
	if c.BatchSize < 1 || c.BatchSize > 100000 {
		errs = append(errs, fmt.Errorf("INGEST_BATCH_SIZE=%d: must be 1..100000", c.BatchSize))
	}
	if c.RetryBackoffMax <= 0 {
		errs = append(errs, fmt.Errorf("INGEST_RETRY_BACKOFF_MAX=%s: must be positive", c.RetryBackoffMax))
	}
	errs = append(errs, c.Commands.validate(c.Protocol, c.EnterpriseID, c.EnterpriseSecret)...)
	return errors.Join(errs...)
}
