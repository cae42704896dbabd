package service

import (
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/logging"
)

// Base is the configuration every service shares. Services embed it in
// their own Config struct.
type Base struct {
	Log             logging.Config
	HTTP            httpserver.Config
	Kafka           kafkaconf.Config
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"30s"`
}

// Validate checks the shared settings not covered by the parts.
func (b Base) Validate() error {
	if b.ShutdownTimeout <= 0 {
		return fmt.Errorf("SHUTDOWN_TIMEOUT=%s: must be positive, e.g. 30s", b.ShutdownTimeout)
	}
	return nil
}

// Baser lets Main find the shared part of a service's configuration.
type Baser interface{ BaseConfig() Base }

// BaseConfig returns b itself; embedding Base makes a Config a Baser.
func (b Base) BaseConfig() Base { return b }
