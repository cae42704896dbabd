// Package energismetest is the Energisme push sink contract: one test suite
// that any Energisme push endpoint must pass with package energisme as the
// client. It runs against the sinksim emulator in this repository's tests
// and can run against Energisme's pre-production endpoint.
package energismetest
