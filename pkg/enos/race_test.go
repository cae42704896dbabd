//go:build race

package enos_test

// raceEnabled: the race detector adds allocations of its own (and makes
// sync.Pool drop items at random), so allocation bounds are looser under
// it.
const raceEnabled = true
