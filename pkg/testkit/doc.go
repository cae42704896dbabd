// Package testkit holds what integration tests of several services share
// beyond Kafka (see kafkatest): building a service's binary once per test
// binary, running it as a process the test owns, running its run function
// in process until stopped, and waiting on a condition with a deadline
// instead of sleeping.
package testkit
