package deploycheck_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestReadmeDocumentsEveryVariable keeps the README's configuration
// reference and the services' config structs from drifting apart: every
// variable a service reads is in a README table, and every variable in a
// README table is read by some service.
func TestReadmeDocumentsEveryVariable(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	name := regexp.MustCompile("`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`")
	for _, line := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			documented[m[1]] = true
		}
	}
	s := newEnvScanner(root)
	read := map[string]string{}
	for _, svc := range []string{"ingest", "decoder", "enos-forwarder", "energisme-forwarder", "bridgectl", "snoti-sim", "sink-sim"} {
		if !written(root, svc) {
			continue
		}
		spec, err := s.service(svc)
		if err != nil {
			t.Fatal(err)
		}
		for v := range spec.vars {
			read[v] = svc
		}
	}
	var undocumented, stale []string
	for v, svc := range read {
		if !documented[v] {
			undocumented = append(undocumented, v+" ("+svc+")")
		}
	}
	for v := range documented {
		if _, ok := read[v]; !ok {
			stale = append(stale, v)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(stale)
	if len(undocumented) > 0 {
		t.Errorf("variables read by a service but missing from the README's tables (first column):\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("variables in the README's tables that no service reads:\n  %s", strings.Join(stale, "\n  "))
	}
}
