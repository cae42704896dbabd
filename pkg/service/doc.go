// Package service is the common skeleton of every snotibridge program: the
// shared configuration (Kafka, logging, HTTP; typed, read from the
// environment by pkg/config, whose Main is a service's main), and Run, which
// keeps a service's long-lived parts under one errgroup and shuts them down
// in order within a deadline.
package service
