// Package kafkaconf turns a typed Kafka configuration (Config: what the
// KAFKA_* variables every service shares give, mapped by pkg/config) into
// kafka-go dialers, transports and writers with the project's safe defaults:
// acks=all, keyed partitioning compatible with Java clients, short batch
// timeouts, no topic auto-creation. Credentials never cross the network in
// clear: SASL is refused without TLS unless explicitly allowed, and a client
// certificate can replace SASL.
package kafkaconf
