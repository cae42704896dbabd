//go:build !race

package enos_test

// raceEnabled: see race_test.go.
const raceEnabled = false
