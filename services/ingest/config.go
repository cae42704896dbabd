package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// Config is the ingest's configuration (see README, "Configuration").
type Config struct {
	service.Base
	// SchemaRegistry: SCHEMA_REGISTRY_* (optional, see newCodec).
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
	// MemoryLimitMiB is the Go runtime's soft memory limit when GOMEMLIMIT
	// is not set: the garbage collector works harder near it instead of
	// letting the heap double (at prefetch 32767 that keeps RSS near 100 MiB
	// instead of 175). 0 leaves the runtime's default.
	MemoryLimitMiB int64 `envconfig:"INGEST_MEMORY_LIMIT_MIB" default:"96"`

	// Commands is the command sender (device.commands.v1 → devices).
	Commands Commands
}

// Validate checks the ingest's own variables (the embedded parts check
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
	if c.MemoryLimitMiB < 0 {
		errs = append(errs, fmt.Errorf("INGEST_MEMORY_LIMIT_MIB=%d: must be 0 (runtime default) or a size in MiB", c.MemoryLimitMiB))
	}
	if c.RetryBackoffMax <= 0 {
		errs = append(errs, fmt.Errorf("INGEST_RETRY_BACKOFF_MAX=%s: must be positive", c.RetryBackoffMax))
	}
	errs = append(errs, c.Commands.validate(c.Protocol, c.EnterpriseID, c.EnterpriseSecret)...)
	return errors.Join(errs...)
}
