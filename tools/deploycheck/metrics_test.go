package deploycheck_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exportedMetrics returns the Prometheus metric names declared in the
// workspace's Go source: the Name of every prometheus.*Opts literal in pkg/
// and services/ (tests excluded).
func exportedMetrics(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, dir := range []string{"pkg", "services"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				cl, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				sel, ok := cl.Type.(*ast.SelectorExpr)
				if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
					return true
				}
				for _, e := range cl.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
						if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							names[v] = true
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Prometheus adds up to every target; the process collector's series
	// are there when the services' registry includes it.
	names["up"] = true
	if b, err := os.ReadFile(filepath.Join(root, "pkg", "httpserver", "server.go")); err == nil && strings.Contains(string(b), "collectors.NewProcessCollector(") {
		names["process_start_time_seconds"] = true
	}
	return names
}

// metricRef matches the metric names this project uses in PromQL.
var metricRef = regexp.MustCompile(`\b(snoti|ingest|snotibridge|decoder|enos_forwarder|energisme)_[a-z0-9_]+\b`)

// standardRef matches the series every scrape target has without a line of
// our code: Prometheus's up, and the process collector's start time
// (pkg/httpserver.NewRegistry registers it; exportedMetrics adds it).
var standardRef = regexp.MustCompile(`\b(up|process_start_time_seconds)\{`)

// checkPromQL fails for every metric in expr that no code exports.
// Histogram series (_bucket, _sum, _count) count as their histogram.
func checkPromQL(t *testing.T, where, expr string, exported map[string]bool) {
	t.Helper()
	refs := metricRef.FindAllString(expr, -1)
	for _, m := range standardRef.FindAllStringSubmatch(expr, -1) {
		refs = append(refs, m[1])
	}
	if len(refs) == 0 {
		t.Errorf("%s: no snotibridge metric in %q", where, expr)
	}
	for _, m := range refs {
		base := m
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(m, suf); ok && exported[b] {
				base = b
			}
		}
		if !exported[base] {
			t.Errorf("%s: metric %s is not exported by any service", where, m)
		}
	}
}

func TestExportedMetricsAreFound(t *testing.T) {
	got := exportedMetrics(t, repoRoot(t))
	for _, m := range []string{"snoti_pushes_total", "ingest_push_ack_seconds", "snotibridge_consumer_lag", "decoder_payloads_total"} {
		if !got[m] {
			t.Errorf("%s not found among %d metrics", m, len(got))
		}
	}
}
