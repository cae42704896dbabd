package testkit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestBuildAndStart(t *testing.T) {
	dir := t.TempDir()
	src := "package main\nimport \"os\"\nfunc main() { os.Stderr.WriteString(\"hello\\n\"); os.Exit(3) }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := testkit.Build(t, dir)
	if again := testkit.Build(t, dir); again != bin {
		t.Errorf("second Build gave %s, want the cached %s", again, bin)
	}
	cmd := testkit.Start(t, bin, append(os.Environ(), "GOWORK=off"))
	err := cmd.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 {
		t.Errorf("exit %v, want code 3", err)
	}
}

func TestEventually(t *testing.T) {
	var n atomic.Int32
	testkit.Eventually(t, time.Minute, "a counter", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Errorf("cond called %d times, want 3", n.Load())
	}
}
