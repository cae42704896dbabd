//go:build !race

package sinksim_test

// raceEnabled: see race_test.go.
const raceEnabled = false
