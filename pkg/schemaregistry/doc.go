// Package schemaregistry connects the pipeline to a Confluent-compatible
// Schema Registry (Confluent, Apicurio's /apis/ccompat/v7, Redpanda,
// Karapace), an option: at start a service registers the current schema of
// each record type it writes under its topic's subject (TopicNameStrategy:
// <topic>-value), after the registry has checked it against the subject's
// compatibility rule, and keeps the ids; its records.Codec then writes the
// Confluent wire format (magic byte 0, 4-byte big-endian schema id) to those
// topics and reads records in either that format or Avro single-object
// encoding, fetching and caching the schemas of ids it has not seen.
package schemaregistry
