package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
)

//go:embed *.avsc
var files embed.FS

// Schema is one version of one record schema.
type Schema struct {
	Name    string // record name, e.g. SnotiEvent
	Version int
	File    string
	JSON    string
}

var fileName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)\.v([0-9]+)\.avsc$`)

// All returns every embedded schema version, sorted by name then version.
func All() ([]Schema, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("reading embedded schemas: %w", err)
	}
	var out []Schema
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("schema file %s: name must be <Name>.v<N>.avsc", e.Name())
		}
		v, _ := strconv.Atoi(m[2])
		b, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", e.Name(), err)
		}
		out = append(out, Schema{Name: m[1], Version: v, File: e.Name(), JSON: string(b)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}
