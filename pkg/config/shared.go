package config

import (
	"fmt"
	"time"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/logging"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// Base is the environment every service shares: logging, the HTTP server,
// Kafka and the shutdown deadline. A service's spec embeds it and turns it
// into the typed service.Base with Service.
type Base struct {
	Log             Log
	HTTP            HTTP
	Kafka           Kafka
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"30s"`
}

// Service returns the typed configuration the libraries take.
func (b Base) Service() service.Base {
	return service.Base{Log: b.Log.Config(), HTTP: b.HTTP.Config(), Kafka: b.Kafka.Config(), ShutdownTimeout: b.ShutdownTimeout}
}

// Validate checks SHUTDOWN_TIMEOUT (the parts check their own variables).
func (b Base) Validate() error {
	return Rename(service.Base{ShutdownTimeout: b.ShutdownTimeout}.Validate(), b)
}

// Kafka is the KAFKA_* variables. Its fields are kafkaconf.Config's, in
// the same order, so the conversion is checked by the compiler.
type Kafka struct {
	Brokers       []string `envconfig:"KAFKA_BROKERS" default:"localhost:9092"`
	TLSEnabled    bool     `envconfig:"KAFKA_TLS_ENABLED"`
	TLSCAFile     string   `envconfig:"KAFKA_TLS_CA_FILE"`
	TLSCertFile   string   `envconfig:"KAFKA_TLS_CERT_FILE"`
	TLSKeyFile    string   `envconfig:"KAFKA_TLS_KEY_FILE"`
	SASLMechanism string   `envconfig:"KAFKA_SASL_MECHANISM"`
	SASLUsername  string   `envconfig:"KAFKA_SASL_USERNAME"`
	SASLPassword  string   `envconfig:"KAFKA_SASL_PASSWORD" file:"true"`
	// AllowInsecureSASL accepts SASL over plaintext (see kafkaconf.Config).
	AllowInsecureSASL bool `envconfig:"KAFKA_ALLOW_INSECURE_SASL"`
}

// Config returns the typed Kafka configuration.
func (k Kafka) Config() kafkaconf.Config { return kafkaconf.Config(k) }

// Warnings are the accepted settings that still weaken the transport, one
// sentence each, for Main to log at start: KAFKA_ALLOW_INSECURE_SASL=true
// with SASL over plaintext sends the password in clear.
func (k Kafka) Warnings() []string {
	if k.SASLMechanism != "" && !k.TLSEnabled && k.AllowInsecureSASL {
		return []string{fmt.Sprintf("KAFKA_ALLOW_INSECURE_SASL=true: the SASL %s credentials and every record cross the network unencrypted; set KAFKA_TLS_ENABLED=true unless the broker is on a trusted local network", k.SASLMechanism)}
	}
	return nil
}

// Validate reports every problem of the KAFKA_* variables.
func (k Kafka) Validate() error { return Rename(k.Config().Validate(), k) }

// Log is LOG_LEVEL and LOG_FORMAT.
type Log struct {
	Level  string `envconfig:"LOG_LEVEL" default:"info"`
	Format string `envconfig:"LOG_FORMAT" default:"json"`
}

// Config returns the typed logging configuration.
func (l Log) Config() logging.Config { return logging.Config(l) }

// Validate reports an unknown level or format.
func (l Log) Validate() error { return Rename(l.Config().Validate(), l) }

// HTTP is HTTP_ADDR and HTTP_PPROF; the server's timeouts are not
// variables.
type HTTP struct {
	Addr  string `envconfig:"HTTP_ADDR" default:":8080"`
	Pprof bool   `envconfig:"HTTP_PPROF" default:"false"`
}

// Config returns the typed HTTP configuration, with the default timeouts.
func (h HTTP) Config() httpserver.Config { return httpserver.Config{Addr: h.Addr, Pprof: h.Pprof} }

// Validate checks that HTTP_ADDR is a host:port.
func (h HTTP) Validate() error { return Rename(h.Config().Validate(), h) }
