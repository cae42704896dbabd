// Package records holds the typed records that flow through Kafka —
// SnotiEvent, DeviceTelemetry, DeadLetter — and their conversion to and from
// Avro single-object encoding and Kafka messages with the standard headers
// (event_type, product_key, event_id, schema). With a schema registry
// (Codec.WithSchemaRegistry, set up by pkg/schemaregistry) records go to
// the registered topics in the Confluent wire format instead, and are read
// in either format.
package records
