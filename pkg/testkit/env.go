package testkit

import (
	"os"
	"testing"
)

// Unsetenv unsets the variables names for the rest of the test; they are
// restored after it, as with tb.Setenv (and, like it, not in parallel
// tests).
func Unsetenv(tb testing.TB, names ...string) {
	tb.Helper()
	for _, k := range names {
		tb.Setenv(k, "") // registers the restore
		if err := os.Unsetenv(k); err != nil {
			tb.Fatal(err)
		}
	}
}

// Setenv sets every variable of env for the rest of the test.
func Setenv(tb testing.TB, env map[string]string) {
	tb.Helper()
	for k, v := range env {
		tb.Setenv(k, v)
	}
}
