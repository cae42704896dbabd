// Package sinksim emulates the two forwarding targets for tests, benchmarks
// and `make run`: the EnOS token service and integration API (EnOS), the
// Energisme HTTP push endpoint (Energisme) and an SFTP server for Energisme
// flat files (SFTPServer).
//
// The HTTP emulators check authentication and payloads the way the real
// services are documented to (../shared/reference), store every accepted
// item, and inject faults on demand (Faults): an error rate, latency, a
// window of 5xx or 429 with Retry-After, the next N requests failing, token
// expiry. Everything is reachable both in-process (methods) and over HTTP
// under /sim/enos/… and /sim/energisme/… (JSON), so an integration test can
// start an emulator on 127.0.0.1:0 with httptest and wait for what it
// received with Wait*/WaitFor.
package sinksim
