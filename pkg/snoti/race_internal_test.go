//go:build race

package snoti

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of pooled paths are not measured under it.
const raceEnabled = true
