// Package service is the common skeleton of every snotibridge program: the
// shared configuration (Kafka, logging, HTTP), a thin Main, and Run, which
// keeps a service's long-lived parts under one errgroup and shuts them down
// in order within a deadline.
package service
