package deploycheck_test

import (
	"debug/elf"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// instruction is one Dockerfile instruction: its lower-case name, flags
// and arguments (the JSON array elements of an exec form).
type instruction struct {
	name  string
	flags []string
	args  []string
	json  bool
	line  int
}

func (in instruction) text() string { return strings.Join(in.args, " ") }

// envPairs returns the variables an ENV instruction sets. The parser gives
// key, value, "=" triples for the key=value form and a key, value pair for
// the legacy "ENV key value" form.
func (in instruction) envPairs() [][2]string {
	var out [][2]string
	step := 2
	if len(in.args) >= 3 && in.args[2] == "=" {
		step = 3
	}
	for i := 0; i+1 < len(in.args); i += step {
		out = append(out, [2]string{in.args[i], in.args[i+1]})
	}
	return out
}

type stage struct {
	from, name string
	body       []instruction
}

type dockerfile struct {
	globalArgs map[string]string // ARGs before the first FROM, with defaults
	stages     []stage
}

func parseDockerfile(t *testing.T, root string) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parsing the Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile line %v: %s", w.Location, w.Short)
	}
	df := dockerfile{globalArgs: map[string]string{}}
	for _, n := range res.AST.Children {
		in := instruction{name: strings.ToLower(n.Value), flags: n.Flags, json: n.Attributes["json"], line: n.StartLine}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		switch {
		case in.name == "from":
			s := stage{from: in.args[0]}
			if len(in.args) == 3 && strings.EqualFold(in.args[1], "as") {
				s.name = in.args[2]
			}
			df.stages = append(df.stages, s)
		case len(df.stages) == 0 && in.name == "arg":
			k, v, _ := strings.Cut(in.args[0], "=")
			df.globalArgs[k] = v
		case len(df.stages) == 0:
			t.Errorf("Dockerfile line %d: %s before the first FROM", in.line, in.name)
		default:
			s := &df.stages[len(df.stages)-1]
			s.body = append(s.body, in)
		}
	}
	return df
}

// expand replaces ${NAME} and $NAME from vars.
func expand(s string, vars map[string]string) string {
	return os.Expand(s, func(k string) string { return vars[k] })
}

func flagValue(flags []string, name string) (string, bool) {
	for _, f := range flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestDockerfileIsOnePatternForEveryService(t *testing.T) {
	df := parseDockerfile(t, repoRoot(t))
	if len(df.stages) != 2 {
		t.Fatalf("%d stages, want build and runtime", len(df.stages))
	}
	build, final := df.stages[0], df.stages[1]
	if img := expand(build.from, df.globalArgs); !strings.HasPrefix(img, "golang:") || build.name != "build" {
		t.Errorf("build stage: FROM %s AS %s, want a golang image AS build", img, build.name)
	}
	if img := expand(final.from, df.globalArgs); img != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("runtime stage: FROM %s, want gcr.io/distroless/static-debian12:nonroot", img)
	}

	env := map[string]string{}
	var runs []string
	for _, in := range build.body {
		switch in.name {
		case "env":
			for _, kv := range in.envPairs() {
				env[kv[0]] = kv[1]
			}
		case "run":
			runs = append(runs, in.text())
		case "add":
			t.Errorf("line %d: ADD can download; use COPY", in.line)
		}
	}
	if env["CGO_ENABLED"] != "0" {
		t.Errorf("build stage: CGO_ENABLED=%q, want 0 (static binaries)", env["CGO_ENABLED"])
	}
	if env["GOTOOLCHAIN"] != "local" {
		t.Errorf("build stage: GOTOOLCHAIN=%q, want local (no toolchain download)", env["GOTOOLCHAIN"])
	}
	for _, r := range runs {
		if regexp.MustCompile(`\b(curl|wget|apt-get|apk|git clone)\b`).MatchString(r) {
			t.Errorf("build stage downloads beyond Go modules: RUN %s", r)
		}
	}
	for _, want := range []string{"go work init ./pkg ./schemas ./services/${SERVICE}", "go build", "./services/${SERVICE}"} {
		if !slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, want) }) {
			t.Errorf("build stage has no RUN with %q", want)
		}
	}

	var user string
	var entrypoint instruction
	for _, in := range final.body {
		switch in.name {
		case "run":
			t.Errorf("line %d: RUN in the distroless stage (it has no shell)", in.line)
		case "copy":
			if from, _ := flagValue(in.flags, "from"); from != "build" {
				t.Errorf("line %d: the runtime stage copies from %q; only the build stage's output belongs there", in.line, from)
			}
		case "user":
			user = in.args[0]
		case "entrypoint":
			entrypoint = in
		}
	}
	if user != "65532:65532" && user != "nonroot" && user != "nonroot:nonroot" {
		t.Errorf("runtime USER %q, want nonroot (65532)", user)
	}
	if !entrypoint.json || !slices.Equal(entrypoint.args, []string{"/usr/local/bin/service"}) {
		t.Errorf("ENTRYPOINT %v (exec form %v), want [\"/usr/local/bin/service\"]", entrypoint.args, entrypoint.json)
	}
}

// TestDockerfileBuildsEveryService runs the build stage without Docker: it
// copies what the COPY instructions copy, filtered by .dockerignore, into a
// scratch tree and runs the RUN commands there with the stage's ENV, the
// image paths (/src, /out, /probe) moved under the scratch folder. It proves
// the context holds everything the builds need (no test file, no testdata)
// and that the binaries are static.
func TestDockerfileBuildsEveryService(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, root)
	ignore := dockerignore(t, root)
	for _, svc := range serviceFolders(t, root) {
		t.Run(svc, func(t *testing.T) {
			if !written(root, svc) {
				t.Skipf("services/%s has no main.go yet", svc)
			}
			start := time.Now()
			scratch := t.TempDir()
			emulateBuildStage(t, root, scratch, df, svc, ignore)
			for _, bin := range []string{"service", "httpprobe"} {
				checkStatic(t, filepath.Join(scratch, "out", bin))
			}
			t.Logf("built in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

func dockerignore(t *testing.T, root string) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

var imagePath = regexp.MustCompile(`(^|[\s=])/(src|out|probe)\b`)

func emulateBuildStage(t *testing.T, root, scratch string, df dockerfile, svc string, ignore *patternmatcher.PatternMatcher) {
	t.Helper()
	vars := map[string]string{"SERVICE": svc}
	// Only the image's settings: no workspace, flags or toolchain of the
	// host's go command leak into the emulated build.
	env := append(os.Environ(), "SERVICE="+svc, "GOFLAGS=", "GOWORK=", "GOTOOLCHAIN=", "CGO_ENABLED=")
	workdir := scratch
	inImage := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Join(scratch, p)
		}
		return filepath.Join(workdir, p)
	}
	for _, in := range df.stages[0].body {
		switch in.name {
		case "workdir":
			workdir = inImage(expand(in.args[0], vars))
			if err := os.MkdirAll(workdir, 0o755); err != nil {
				t.Fatal(err)
			}
		case "env":
			for _, kv := range in.envPairs() {
				env = append(env, kv[0]+"="+expand(kv[1], vars))
			}
		case "copy":
			if _, from := flagValue(in.flags, "from"); from {
				continue
			}
			dest := inImage(expand(in.args[len(in.args)-1], vars))
			for _, src := range in.args[:len(in.args)-1] {
				matches, err := filepath.Glob(filepath.Join(root, expand(src, vars)))
				// BuildKit allows a wildcard to match nothing (go.su[m]
				// copies go.sum when the module has one), not a plain path.
				if err != nil || (len(matches) == 0 && !strings.ContainsAny(src, "*?[")) {
					t.Fatalf("line %d: COPY %s matches nothing in the repository", in.line, src)
				}
				for _, m := range matches {
					copyContext(t, root, m, dest, strings.HasSuffix(in.args[len(in.args)-1], "/") || len(matches) > 1, ignore)
				}
			}
		case "run":
			// The shell expands the variables, as in the image.
			cmdline := imagePath.ReplaceAllString(in.text(), "${1}"+scratch+"/${2}")
			cmd := exec.Command("sh", "-c", cmdline)
			cmd.Dir = workdir
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("line %d: RUN %s: %v\n%s", in.line, cmdline, err, out)
			}
		}
	}
}

// copyContext copies src (a file or a folder of the build context) to
// dest as COPY does, leaving out what .dockerignore excludes.
func copyContext(t *testing.T, root, src, dest string, destIsDir bool, ignore *patternmatcher.PatternMatcher) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if excluded, err := ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); err != nil {
			return err
		} else if excluded {
			if path == src {
				t.Errorf("COPY %s: excluded by .dockerignore", rel)
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		target := dest
		if path != src || destIsDir {
			inner, _ := filepath.Rel(src, path)
			if path == src {
				inner = filepath.Base(path)
			}
			target = filepath.Join(dest, inner)
		}
		return copyFile(path, target)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkStatic fails unless path is an ELF executable with no interpreter
// and no dynamic section: it must run on distroless/static.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked", filepath.Base(path))
		}
	}
}
