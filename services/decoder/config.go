package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/config/registryenv"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// environ is the decoder's environment: the variables every service reads and
// its own (see README, "Configuration").
type environ struct {
	SchemaRegistry registryenv.SchemaRegistry
	config.Base
	Config
}

// config returns the typed configuration run takes.
func (e environ) config() Config {
	c := e.Config
	c.Base = e.Base.Service()
	c.SchemaRegistry = e.SchemaRegistry.Config()
	return c
}

// Config is the decoder's configuration. Its own fields are read from the
// variables in their tags; Base from the shared ones (environ).
type Config struct {
	service.Base
	// SchemaRegistry: from SCHEMA_REGISTRY_* (environ; optional, see run: schemaregistry.NewCodec).
	SchemaRegistry schemaregistry.Config
	CodecsDir      string `envconfig:"CODECS_DIR" required:"true"`
	TopicEvents    string `envconfig:"TOPIC_EVENTS" default:"snoti.events.v1"`
	TopicTelemetry string `envconfig:"TOPIC_TELEMETRY" default:"device.telemetry.v1"`
	// TopicDLQ is the dead-letter topic. bridgectl names it
	// TOPIC_DECODER_DLQ; the decoder reads that name too, so one
	// environment serves both (set either, or both to the same value).
	// Validate sets the default, decoder.dlq.v1.
	TopicDLQ        string `envconfig:"TOPIC_DLQ"`
	TopicDecoderDLQ string `envconfig:"TOPIC_DECODER_DLQ"`
	GroupID         string `envconfig:"GROUP_ID" default:"decoder"`
	BatchSize       int    `envconfig:"DECODER_BATCH_SIZE" default:"1000"`
	// BatchLinger ends a batch once no record arrived within it (0: none;
	// see consume.Batching): longer batches fewer writes at moderate rates,
	// for up to BatchWait of latency.
	BatchLinger time.Duration `envconfig:"DECODER_BATCH_LINGER" default:"1ms"`
}

// Validate checks the decoder's own variables.
func (c *Config) Validate() error {
	var errs []error
	if dlq, _, err := config.Either("decoder.dlq.v1", config.Var{Name: "TOPIC_DLQ", Value: c.TopicDLQ}, config.Var{Name: "TOPIC_DECODER_DLQ", Value: c.TopicDecoderDLQ}); err != nil {
		errs = append(errs, err)
	} else {
		c.TopicDLQ = dlq
	}
	if c.CodecsDir != "" {
		if st, err := os.Stat(c.CodecsDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("CODECS_DIR=%q: not a readable directory: point it at the folder of <product_key>.json codec files", c.CodecsDir))
		}
	}
	// A slice, not a map: the errors come out in the same order every time.
	for _, v := range []struct{ name, value string }{
		{"TOPIC_EVENTS", c.TopicEvents}, {"TOPIC_TELEMETRY", c.TopicTelemetry}, {"GROUP_ID", c.GroupID},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: set it or leave it unset for the default", v.name))
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("DECODER_BATCH_SIZE=%d: must be 1..10000", c.BatchSize))
	}
	if c.BatchLinger < 0 || c.BatchLinger > consume.MaxBatchLinger {
		errs = append(errs, fmt.Errorf("DECODER_BATCH_LINGER=%s: must be 0 (none) up to %s, e.g. 1ms", c.BatchLinger, consume.MaxBatchLinger))
	}
	return errors.Join(errs...)
}
