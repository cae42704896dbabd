// Package kafkaconf turns the KAFKA_* variables every service shares into
// kafka-go dialers, transports and writers with the project's safe defaults:
// acks=all, keyed partitioning compatible with Java clients, short batch
// timeouts, no topic auto-creation.
package kafkaconf
