// Package sinkenv holds the environment variables of the sinks that two
// programs read: the forwarder, and bridgectl when it replays or redrives
// into that sink (ENOS_*, the ENERGISME_* of the push). Each block turns into
// its handler package's typed Config and names the variables in its
// errors. It is apart from pkg/config so that a service without a sink does
// not link the sinks' packages.
package sinkenv
