package main

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/config/registryenv"
	"github.com/snotibridge/snotibridge/pkg/config/sinkenv"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// environ is the forwarder's environment: the variables every service reads,
// the ENOS_* ones (shared with bridgectl's "enos" sink) and its own (see
// README, "Configuration").
type environ struct {
	SchemaRegistry registryenv.SchemaRegistry
	config.Base
	EnOS sinkenv.EnOS
	Config
}

// config returns the typed configuration run takes.
func (e environ) config() Config {
	c := e.Config
	c.Base, c.EnOS = e.Base.Service(), e.EnOS.Config()
	c.SchemaRegistry = e.SchemaRegistry.Config()
	return c
}

// Config is the EnOS forwarder's configuration. Its own fields are read
// from the variables in their tags; Base and EnOS from the shared ones
// (environ).
type Config struct {
	service.Base
	// SchemaRegistry: from SCHEMA_REGISTRY_* (environ; optional, see run: schemaregistry.NewCodec).
	SchemaRegistry schemaregistry.Config
	EnOS           enosfwd.Config
	TopicTelemetry string `envconfig:"TOPIC_TELEMETRY" default:"device.telemetry.v1"`
	TopicEvents    string `envconfig:"TOPIC_EVENTS" default:"snoti.events.v1"`
	// TopicDLQ is the dead-letter topic. bridgectl names it
	// TOPIC_ENOS_DLQ; the forwarder reads that name too, so one environment
	// serves both (set either, or both to the same value). Validate sets
	// the default, enos.dlq.v1, and DLQFrom.
	TopicDLQ     string `envconfig:"TOPIC_DLQ"`
	TopicEnosDLQ string `envconfig:"TOPIC_ENOS_DLQ"`
	GroupID      string `envconfig:"GROUP_ID" default:"enos"`
	// DLQFrom is the variable TopicDLQ was read from ("" for the default).
	DLQFrom string
	// BatchSize bounds the records of one batch, and of the reader's
	// queue. A batch is sent once full or once no more records are ready
	// (consume.Batching: a 1 ms linger, 20 ms at most), so under a steady
	// stream it does not add BatchSize/rate of latency; under a backlog
	// batches are full. The default is the decoder's: batches are handled
	// one after another, so a batch of 250 that took more than 50 ms on a
	// busy machine (5k records/s) left the forwarder behind, and every
	// later record waited out the backlog. At 5k events/s through the
	// chain, 1000 against 250 in 5 of 5 alternated runs: end-to-end p50
	// 49-72 against 61-159 ms, p99 121-199 against 228-475 ms; 5000
	// measured the same as 1000.
	BatchSize int `envconfig:"ENOS_BATCH_SIZE" default:"1000"`
	// BatchLinger is that linger (0: none): longer, fewer and larger
	// requests at moderate rates, for up to 20 ms of latency.
	BatchLinger time.Duration `envconfig:"ENOS_BATCH_LINGER" default:"1ms"`
	// Concurrency is the most EnOS requests a batch has in flight
	// (enosfwd.Options.Concurrency): a batch's measurement points, events
	// and attributes are posted at once, and a large batch is split into
	// lanes by device, each device's entries in one lane, posted in order.
	Concurrency int `envconfig:"ENOS_CONCURRENCY" default:"4"`
}

// Validate checks the forwarder's own variables (sinkenv.EnOS checks the
// ENOS_* ones and the mapping file).
func (c *Config) Validate() error {
	var errs []error
	dlq, from, err := config.Either("enos.dlq.v1", config.Var{Name: "TOPIC_DLQ", Value: c.TopicDLQ}, config.Var{Name: "TOPIC_ENOS_DLQ", Value: c.TopicEnosDLQ})
	if err != nil {
		errs = append(errs, err)
	} else {
		c.TopicDLQ, c.DLQFrom = dlq, from
	}
	for _, v := range []struct{ name, value string }{
		{"TOPIC_TELEMETRY", c.TopicTelemetry}, {"TOPIC_EVENTS", c.TopicEvents}, {"GROUP_ID", c.GroupID},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: set it or leave it unset for the default", v.name))
		}
	}
	if c.TopicDLQ != "" && (c.TopicDLQ == c.TopicTelemetry || c.TopicDLQ == c.TopicEvents) {
		errs = append(errs, fmt.Errorf("%s=%q: must differ from the consumed topics, e.g. enos.dlq.v1", cmp.Or(c.DLQFrom, "TOPIC_DLQ"), c.TopicDLQ))
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("ENOS_BATCH_SIZE=%d: must be 1..10000", c.BatchSize))
	}
	if c.BatchLinger < 0 || c.BatchLinger > consume.MaxBatchLinger {
		errs = append(errs, fmt.Errorf("ENOS_BATCH_LINGER=%s: must be 0 (none) up to %s, e.g. 1ms", c.BatchLinger, consume.MaxBatchLinger))
	}
	if c.Concurrency < 1 || c.Concurrency > enosfwd.MaxConcurrency {
		errs = append(errs, fmt.Errorf("ENOS_CONCURRENCY=%d: must be 1..%d", c.Concurrency, enosfwd.MaxConcurrency))
	}
	return errors.Join(errs...)
}
