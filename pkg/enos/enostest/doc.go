// Package enostest is the EnOS sink contract: one test suite that any EnOS
// integration endpoint must pass with package enos as the client. It runs
// against the sinksim emulator in this repository's tests and can run
// against a real EnOS tenant by building a Target from its settings.
package enostest
