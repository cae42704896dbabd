// Package registrytest gives integration tests a real Confluent-compatible
// Schema Registry: Apicurio Registry, built from Maven Central by
// tools/registry/registry.sh (cached under $SNOTIBRIDGE_CACHE) and started
// once per test binary on a free loopback port, with in-memory storage and
// BACKWARD as the global compatibility rule (Confluent's default). Its
// Confluent API is at URL(); each test uses subjects of its own topics.
package registrytest
