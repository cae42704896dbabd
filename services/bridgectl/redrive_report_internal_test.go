package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

// TestReportAndStateArePrivate: the redrive report is created 0600 and the
// state folder 0700, whatever the umask lets through.
func TestReportAndStateArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "state")
	statePath := filepath.Join(dir, "redrive-x.json")
	if err := (&replay.State{}).Save(statePath); err != nil {
		t.Fatal(err)
	}
	r, err := openReport(filepath.Join(dir, "redrive-x.report.jsonl"), "enos.dlq.v1", "enos")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		dir: fs.ModeDir | 0o700, statePath: 0o600, filepath.Join(dir, "redrive-x.report.jsonl"): 0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), st.Mode(), want)
		}
	}
}
