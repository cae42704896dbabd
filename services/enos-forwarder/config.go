package main

import (
	"errors"
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// Config is the EnOS forwarder's configuration (see README, "Configuration").
// The ENOS_* variables are enosfwd.Config's.
type Config struct {
	service.Base
	EnOS           enosfwd.Config
	TopicTelemetry string `envconfig:"TOPIC_TELEMETRY" default:"device.telemetry.v1"`
	TopicEvents    string `envconfig:"TOPIC_EVENTS" default:"snoti.events.v1"`
	TopicDLQ       string `envconfig:"TOPIC_DLQ" default:"enos.dlq.v1"`
	GroupID        string `envconfig:"GROUP_ID" default:"enos"`
	// BatchSize bounds the records of one batch. Under a steady stream the
	// runner fills a batch before sending it, so this also bounds latency:
	// at 5k records/s, 250 adds at most ~50 ms (see bench_test.go).
	BatchSize int `envconfig:"ENOS_BATCH_SIZE" default:"250"`
}

// Validate checks the forwarder's own variables (enosfwd.Config checks the
// ENOS_* ones and the mapping file).
func (c *Config) Validate() error {
	var errs []error
	for _, v := range []struct{ name, value string }{
		{"TOPIC_TELEMETRY", c.TopicTelemetry}, {"TOPIC_EVENTS", c.TopicEvents}, {"TOPIC_DLQ", c.TopicDLQ}, {"GROUP_ID", c.GroupID},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: set it or leave it unset for the default", v.name))
		}
	}
	if c.TopicDLQ != "" && (c.TopicDLQ == c.TopicTelemetry || c.TopicDLQ == c.TopicEvents) {
		errs = append(errs, fmt.Errorf("TOPIC_DLQ=%q: must differ from the consumed topics, e.g. enos.dlq.v1", c.TopicDLQ))
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("ENOS_BATCH_SIZE=%d: must be 1..10000", c.BatchSize))
	}
	return errors.Join(errs...)
}
