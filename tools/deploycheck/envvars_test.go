package deploycheck_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const modulePrefix = "github.com/snotibridge/snotibridge/"

// envSpec is what a service reads from its environment, found in its
// source: the envconfig tags of every struct declared in its package main
// and, recursively, of the workspace structs those structs hold as fields.
type envSpec struct {
	vars     map[string]bool // every variable read
	required map[string]bool // those tagged required:"true"
}

// names lists the variables, sorted, for messages.
func (s envSpec) names() []string {
	out := make([]string, 0, len(s.vars))
	for v := range s.vars {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// goPackage is the struct types and the imports of one parsed package.
type goPackage struct {
	structs map[string]*ast.StructType
	imports map[*ast.StructType]map[string]string // local name -> import path, per declaring file
}

// envScanner parses packages of the workspace on demand.
type envScanner struct {
	root string
	pkgs map[string]*goPackage // by directory
}

func newEnvScanner(root string) *envScanner {
	return &envScanner{root: root, pkgs: map[string]*goPackage{}}
}

// service returns the env spec of services/<name>. A service whose source
// declares no envconfig tag yet (still being written) has an empty spec.
func (s *envScanner) service(name string) (envSpec, error) {
	spec := envSpec{vars: map[string]bool{}, required: map[string]bool{}}
	p, err := s.load(filepath.Join(s.root, "services", name))
	if err != nil {
		return spec, err
	}
	seen := map[*ast.StructType]bool{}
	for _, st := range p.structs {
		if err := s.walk(p, st, spec, seen); err != nil {
			return spec, fmt.Errorf("services/%s: %w", name, err)
		}
	}
	return spec, nil
}

func (s *envScanner) load(dir string) (*goPackage, error) {
	if p, ok := s.pkgs[dir]; ok {
		return p, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading package %s: %w", dir, err)
	}
	p := &goPackage{structs: map[string]*ast.StructType{}, imports: map[*ast.StructType]map[string]string{}}
	fset := token.NewFileSet()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, n), err)
		}
		imps := map[string]string{}
		for _, is := range f.Imports {
			path, _ := strconv.Unquote(is.Path.Value)
			local := path[strings.LastIndex(path, "/")+1:]
			if is.Name != nil {
				local = is.Name.Name
			}
			imps[local] = path
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				p.structs[ts.Name.Name] = st
				p.imports[st] = imps
			}
			return true
		})
	}
	s.pkgs[dir] = p
	return p, nil
}

// walk adds the tags of st and of the struct types its fields use.
func (s *envScanner) walk(p *goPackage, st *ast.StructType, spec envSpec, seen map[*ast.StructType]bool) error {
	if seen[st] {
		return nil
	}
	seen[st] = true
	for _, f := range st.Fields.List {
		if f.Tag != nil {
			raw, _ := strconv.Unquote(f.Tag.Value)
			tag := reflect.StructTag(raw)
			if name, ok := tag.Lookup("envconfig"); ok && name != "" {
				spec.vars[name] = true
				if tag.Get("file") == "true" {
					spec.vars[name+"_FILE"] = true // pkg/config: the value from a file
				}
				if tag.Get("required") == "true" {
					spec.required[name] = true
				}
				continue
			}
			if tag.Get("ignored") == "true" {
				continue
			}
		}
		if err := s.walkType(p, st, f.Type, spec, seen); err != nil {
			return err
		}
	}
	return nil
}

func (s *envScanner) walkType(p *goPackage, owner *ast.StructType, expr ast.Expr, spec envSpec, seen map[*ast.StructType]bool) error {
	switch t := expr.(type) {
	case *ast.StarExpr:
		return s.walkType(p, owner, t.X, spec, seen)
	case *ast.StructType:
		return s.walk(p, t, spec, seen)
	case *ast.Ident:
		if st, ok := p.structs[t.Name]; ok {
			return s.walk(p, st, spec, seen)
		}
	case *ast.SelectorExpr:
		x, ok := t.X.(*ast.Ident)
		if !ok {
			return nil
		}
		path := p.imports[owner][x.Name]
		rel, ok := strings.CutPrefix(path, modulePrefix)
		if !ok {
			return nil // outside the workspace: reads no variable of ours
		}
		q, err := s.load(filepath.Join(s.root, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if st, ok := q.structs[t.Sel.Name]; ok {
			return s.walk(q, st, spec, seen)
		}
	}
	return nil
}

// repoRoot is the workspace root, two levels above this module.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

// serviceFolders lists the folders of services/ holding a Go module.
func serviceFolders(t testing.TB, root string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(root, "services", "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range matches {
		out = append(out, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(out)
	return out
}

// written reports whether services/<name> has a main package yet.
func written(root, name string) bool {
	_, err := os.Stat(filepath.Join(root, "services", name, "main.go"))
	return err == nil
}

func TestEnvScannerFindsSharedAndOwnVariables(t *testing.T) {
	root := repoRoot(t)
	s := newEnvScanner(root)
	tests := []struct {
		service  string
		want     []string
		required []string
	}{
		{service: "decoder", want: []string{"KAFKA_BROKERS", "KAFKA_SASL_PASSWORD", "LOG_LEVEL", "HTTP_ADDR", "SHUTDOWN_TIMEOUT", "CODECS_DIR", "GROUP_ID"}, required: []string{"CODECS_DIR"}},
		{service: "ingest", want: []string{"KAFKA_TLS_CA_FILE", "SNOTI_ADDR", "SNOTI_PREFETCH", "TOPIC_INVALID"}, required: []string{"SNOTI_ADDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			if !written(root, tt.service) {
				t.Skipf("services/%s has no main.go yet", tt.service)
			}
			spec, err := s.service(tt.service)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.want {
				if !spec.vars[v] {
					t.Errorf("%s not found; found %v", v, spec.names())
				}
			}
			for _, v := range tt.required {
				if !spec.required[v] {
					t.Errorf("%s not marked required", v)
				}
			}
			if spec.vars["SINK_SIM_ADDR"] {
				t.Errorf("a variable of another service leaked in: %v", spec.names())
			}
		})
	}
}
