// Package records holds the typed records that flow through Kafka —
// SnotiEvent, DeviceTelemetry, DeadLetter — and their conversion to and from
// Avro single-object encoding and Kafka messages with the standard headers
// (event_type, product_key, event_id, schema).
package records
