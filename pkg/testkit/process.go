package testkit

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Start runs the executable at path with env (a full environment, e.g.
// append(os.Environ(), …)) as a process the test owns: its stderr goes to
// the test log, it is killed at the end of the test, and with the test
// binary if that dies first (Pdeathsig), so no process outlives a run.
func Start(tb testing.TB, path string, env []string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(path)
	cmd.Env = env
	cmd.Stderr = logWriter{tb: tb, name: filepath.Base(path)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", path, err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

type logWriter struct {
	tb   testing.TB
	name string
}

func (w logWriter) Write(b []byte) (int, error) {
	w.tb.Logf("%s: %s", w.name, b)
	return len(b), nil
}
