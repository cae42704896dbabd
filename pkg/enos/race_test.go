//go:build race

package enos_test

// raceEnabled: the race detector adds allocations of its own (and makes
// sync.Pool drop items), so allocation bounds are not checked under it.
const raceEnabled = true
