// Package localstack is the whole pipeline on one machine, as processes:
// what `make run` (tools/run) and `make chaos` (tools/chaos) start. It holds
// the services' start order, each one's wiring (its environment: the
// simulators, the example codecs and mappings) and a Spawner whose children
// cannot outlive the program that started them.
package localstack
