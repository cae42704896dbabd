package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ConfigMap lays out a folder the way the kubelet mounts a ConfigMap (no
// subPath): each file is a symlink "<name>" → "..data/<name>", and
// "..data" a symlink to a timestamped folder holding the files. Update
// swaps "..data" atomically to a new folder and removes the old one, as the
// kubelet's atomic writer does, so a service reading "<dir>/<name>" sees
// either the whole old version or the whole new one.
type ConfigMap struct {
	tb  testing.TB
	dir string
	gen int
}

// NewConfigMap creates the folder (in tb's temp dir) with files, name → content.
func NewConfigMap(tb testing.TB, files map[string]string) *ConfigMap {
	tb.Helper()
	c := &ConfigMap{tb: tb, dir: tb.TempDir()}
	c.Update(files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(c.dir, name)); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// Dir is the mounted folder.
func (c *ConfigMap) Dir() string { return c.dir }

// Path is the path a service is configured with for file name.
func (c *ConfigMap) Path(name string) string { return filepath.Join(c.dir, name) }

// Update publishes a new version holding files (the same names as at
// creation: only the content changes).
func (c *ConfigMap) Update(files map[string]string) {
	c.tb.Helper()
	c.gen++
	ts := fmt.Sprintf("..2026_12_02_00_00_%02d.%d", c.gen%60, c.gen)
	if err := os.Mkdir(filepath.Join(c.dir, ts), 0o755); err != nil {
		c.tb.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(c.dir, ts, name), []byte(content), 0o644); err != nil {
			c.tb.Fatal(err)
		}
	}
	old, _ := os.Readlink(filepath.Join(c.dir, "..data"))
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		c.tb.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		c.tb.Fatal(err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(c.dir, old)); err != nil {
			c.tb.Fatal(err)
		}
	}
}
