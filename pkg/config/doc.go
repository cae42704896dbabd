// Package config loads a service's configuration from environment variables
// into a typed struct with envconfig, reporting every invalid variable at once
// rather than stopping at the first.
package config
