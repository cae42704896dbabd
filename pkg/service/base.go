package service

import (
	"time"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/logging"
)

// Base is the configuration every service shares, typed: services embed it
// in their own Config and fill it from the environment with pkg/config.
type Base struct {
	Log             logging.Config
	HTTP            httpserver.Config
	Kafka           kafkaconf.Config
	ShutdownTimeout time.Duration
}

// Validate checks the shared settings not covered by the parts.
func (b Base) Validate() error {
	if b.ShutdownTimeout <= 0 {
		return fielderr.Bad("ShutdownTimeout", b.ShutdownTimeout, "must be positive, e.g. 30s")
	}
	return nil
}
