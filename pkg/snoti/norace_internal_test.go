//go:build !race

package snoti

// raceEnabled: see race_internal_test.go.
const raceEnabled = false
