// Package config is the one place that reads the environment: it loads a
// service's variables into a typed struct with envconfig, reporting every
// invalid variable at once rather than stopping at the first. It holds the
// variables every service shares (Base: KAFKA_*, LOG_*, HTTP_ADDR,
// SHUTDOWN_TIMEOUT), each turned into the typed Config of its library
// (the sinks' variables, which bridgectl reads too, are in sinkenv);
// Rename maps a library's field errors onto the variables, and Main is the
// body of every service's main. Libraries take typed structs and never
// look at the environment.
package config
