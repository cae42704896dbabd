package filewatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/filewatch"
)

// conf is a tiny configuration: a JSON object with a non-empty "name".
type conf struct {
	Name string `json:"name"`
}

func parse(name string, data []byte) (*conf, error) {
	var c conf
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if c.Name == "" {
		return nil, errors.New(name + ": name is empty")
	}
	return &c, nil
}

// configMap lays out dir as the kubelet mounts a ConfigMap: the file is a
// symlink to ..data/<file>, ..data a symlink to a timestamped folder.
type configMap struct {
	t    *testing.T
	dir  string
	file string
	n    int
}

func newConfigMap(t *testing.T, file, content string) *configMap {
	c := &configMap{t: t, dir: t.TempDir(), file: file}
	c.update(content)
	if err := os.Symlink(filepath.Join("..data", file), filepath.Join(c.dir, file)); err != nil {
		t.Fatal(err)
	}
	return c
}

// update writes a new timestamped folder and swaps ..data to it atomically,
// then removes the old folder, as the kubelet's atomic writer does.
func (c *configMap) update(content string) {
	c.t.Helper()
	c.n++
	ts := filepath.Join(c.dir, "..2026_12_02_00_00_0"+string(rune('0'+c.n)))
	if err := os.Mkdir(ts, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ts, c.file), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(c.dir, "..data"))
	if err := os.Symlink(filepath.Base(ts), filepath.Join(c.dir, "..data_tmp")); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(c.dir, "..data_tmp"), filepath.Join(c.dir, "..data")); err != nil {
		c.t.Fatal(err)
	}
	if old != "" {
		_ = os.RemoveAll(filepath.Join(c.dir, old))
	}
}

func (c *configMap) path() string { return filepath.Join(c.dir, c.file) }

func open(t *testing.T, path string, reg prometheus.Registerer) *filewatch.File[conf] {
	t.Helper()
	f, err := filewatch.Open(filewatch.FileConfig{
		Path: path, Label: "TEST_FILE",
		Options: filewatch.Options{Debounce: 10 * time.Millisecond, RescanInterval: time.Hour},
	}, parse, zerolog.New(zerolog.NewTestWriter(t)), reg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func run(t *testing.T, f *filewatch.File[conf]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := f.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOpenRejectsBadFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "good", content: `{"name":"a"}`},
		{name: "not JSON", content: `{`, wantErr: "unexpected end"},
		{name: "invalid", content: `{"name":""}`, wantErr: "name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := filewatch.Open(filewatch.FileConfig{Path: p}, parse, zerolog.Nop(), nil)
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Open: %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := filewatch.Open(filewatch.FileConfig{Path: filepath.Join(t.TempDir(), "absent.json")}, parse, zerolog.Nop(), nil); err == nil {
		t.Fatal("Open of an absent file: no error")
	}
}

// TestConfigMapSwap updates a ConfigMap-style folder: each good version is
// swapped in within the debounce; a bad one is rejected (metric, stats)
// and the previous version stays in force until a good one arrives.
func TestConfigMapSwap(t *testing.T) {
	reg := prometheus.NewRegistry()
	cm := newConfigMap(t, "mapping.json", `{"name":"v1"}`)
	f := open(t, cm.path(), reg)
	run(t, f)
	name := func() string { return f.Current().Name }
	if name() != "v1" {
		t.Fatalf("name %q", name())
	}
	cm.update(`{"name":"v2"}`)
	eventually(t, "v2", func() bool { return name() == "v2" })

	cm.update(`{"name":`)
	eventually(t, "the rejection", func() bool { return f.Stats().Rejected == 1 })
	if name() != "v2" || !f.Stats().Bad {
		t.Fatalf("after a bad file: name %q, stats %+v; want v2 kept, Bad", name(), f.Stats())
	}
	if v := gauge(t, reg); v != 1 {
		t.Errorf("snotibridge_config_rejected = %v, want 1", v)
	}
	_ = f.Reload() // the same bad content again: not counted twice
	if s := f.Stats(); s.Rejected != 1 {
		t.Errorf("rejected %d times, want once per bad content", s.Rejected)
	}

	cm.update(`{"name":"v3"}`)
	eventually(t, "v3", func() bool { return name() == "v3" })
	if s := f.Stats(); s.Bad || s.Reloads != 2 || s.Version != 3 {
		t.Errorf("stats %+v: want Reloads 2, Version 3, not Bad", s)
	}
	if v := gauge(t, reg); v != 0 {
		t.Errorf("snotibridge_config_rejected = %v, want 0", v)
	}
}

// gauge reads snotibridge_config_rejected{file="TEST_FILE"}.
func gauge(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "snotibridge_config_rejected" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "file" && l.GetValue() == "TEST_FILE" {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatal("snotibridge_config_rejected{file=\"TEST_FILE\"} not registered")
	return 0
}

// TestEditorRenameWrite saves the way editors do (write a temporary file,
// rename it over the old one), then removes the file and brings it back.
func TestEditorRenameWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.json")
	save := func(content string) {
		tmp := filepath.Join(dir, ".c.json.swp")
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	save(`{"name":"a"}`)
	f := open(t, p, nil)
	run(t, f)
	save(`{"name":"b"}`)
	eventually(t, "b", func() bool { return f.Current().Name == "b" })

	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the missing file rejected", func() bool { return f.Stats().Bad })
	if f.Current().Name != "b" {
		t.Fatalf("after removal: %q, want b kept", f.Current().Name)
	}
	save(`{"name":"b"}`) // back with the content in force
	eventually(t, "the file back", func() bool { return !f.Stats().Bad })
	if f.Current().Name != "b" {
		t.Fatalf("name %q", f.Current().Name)
	}
}

// TestRescanWithoutEvents: a change the folder watch cannot see (the file
// is a symlink to another folder) is picked up by the periodic rescan.
func TestRescanWithoutEvents(t *testing.T) {
	target := filepath.Join(t.TempDir(), "real.json")
	if err := os.WriteFile(target, []byte(`{"name":"a"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "c.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	f, err := filewatch.Open(filewatch.FileConfig{Path: link, Options: filewatch.Options{RescanInterval: 20 * time.Millisecond}}, parse, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f)
	if err := os.WriteFile(target, []byte(`{"name":"b"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b", func() bool { return f.Current().Name == "b" })
}

// TestCurrentDuringReloads reads from many goroutines while versions flip
// (run with -race): every read sees a whole version.
func TestCurrentDuringReloads(t *testing.T) {
	cm := newConfigMap(t, "c.json", `{"name":"even"}`)
	f := open(t, cm.path(), nil)
	run(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if n := f.Current().Name; n != "even" && n != "odd" {
					t.Errorf("name %q", n)
					return
				}
			}
		}()
	}
	for i := range 6 {
		want := []string{"odd", "even"}[i%2]
		cm.update(`{"name":"` + want + `"}`)
		eventually(t, want, func() bool { return f.Current().Name == want })
	}
	cancel()
	wg.Wait()
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.json")
	for _, content := range []string{"one", "two"} {
		if err := filewatch.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("content %q (%v), want %q", got, err, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d entries in the folder, want the file alone (no temporary left)", len(entries))
	}
	if err := filewatch.WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir"), nil, 0o600); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}
