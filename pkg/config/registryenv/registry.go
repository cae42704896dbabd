// Package registryenv reads the SCHEMA_REGISTRY_* variables of the
// services that write or read Kafka records, into schemaregistry.Config.
// It is apart from pkg/config so that services without Kafka records do
// not pull in the registry client.
package registryenv

import (
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
)

// SchemaRegistry is the SCHEMA_REGISTRY_* variables. Its fields are
// schemaregistry.Config's, in the same order. The registry is off while
// SCHEMA_REGISTRY_URL is empty.
type SchemaRegistry struct {
	URL               string        `envconfig:"SCHEMA_REGISTRY_URL"`
	Username          string        `envconfig:"SCHEMA_REGISTRY_USERNAME" file:"true"`
	Password          string        `envconfig:"SCHEMA_REGISTRY_PASSWORD" file:"true"`
	CAFile            string        `envconfig:"SCHEMA_REGISTRY_CA_FILE"`
	AllowInsecureHTTP bool          `envconfig:"SCHEMA_REGISTRY_ALLOW_INSECURE_HTTP"`
	Timeout           time.Duration `envconfig:"SCHEMA_REGISTRY_TIMEOUT" default:"10s"`
}

// Config returns the typed settings.
func (s SchemaRegistry) Config() schemaregistry.Config { return schemaregistry.Config(s) }

// Validate reports every problem of the SCHEMA_REGISTRY_* variables, each
// naming the variable and the fix.
func (s SchemaRegistry) Validate() error { return config.Rename(s.Config().Validate(), s) }
