// Package avro encodes and decodes the pipeline's records in Avro
// Single-Object Encoding (C3 01, the writer schema's 8-byte Rabin
// fingerprint, the datum) with goavro. Writers use the newest version of a
// schema; readers find the writer's version by fingerprint among every
// version embedded in the schemas module, so no registry service is needed.
package avro
