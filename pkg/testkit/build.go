package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

type built struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*built{}
)

// Build compiles the main package in dir (relative to the test's working
// directory, e.g. "." or "../ingest") once per test binary and returns the
// executable's path. Concurrent callers share one build.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	buildsMu.Lock()
	b, ok := builds[abs]
	if !ok {
		b = &built{}
		builds[abs] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		out, err := os.MkdirTemp("", "testkit-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(out, filepath.Base(abs))
		cmd := exec.Command("go", "build", "-o", b.path, ".")
		cmd.Dir = abs
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building %s: %v\n%s", abs, err, msg)
		}
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}
