package deploycheck_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// helmVersion is the Helm built from the Go module proxy for the tests.
const helmVersion = "v3.22.0"

// helm returns the path of a Helm binary, building it on first use into
// .cache/bin/helm-<version>/ at the repository root (git-ignored) and
// reusing it afterwards. SNOTIBRIDGE_SKIP_HELM=1 skips the caller.
func helm(t *testing.T) string {
	t.Helper()
	return goTool(t, "helm", "helm.sh/helm/v3/cmd/helm", helmVersion, "", "SNOTIBRIDGE_SKIP_HELM")
}

// goTool is one pinned tool installed from the Go module proxy.
type goToolBuild struct {
	once sync.Once
	path string
	err  error
}

var goTools sync.Map // name -> *goToolBuild

// goTool returns the path of the program pkg@version, built with the build
// tags given (comma-separated, may be empty) on first use into
// .cache/bin/<name>-<version>/<name> at the repository root (git-ignored)
// and reused afterwards. skipEnv=1 skips the caller.
func goTool(t *testing.T, name, pkg, version, tags, skipEnv string) string {
	t.Helper()
	if os.Getenv(skipEnv) == "1" {
		t.Skipf("%s=1: %s checks skipped on request", skipEnv, name)
	}
	root := repoRoot(t)
	v, _ := goTools.LoadOrStore(name, &goToolBuild{})
	b := v.(*goToolBuild)
	b.once.Do(func() {
		dir := filepath.Join(root, ".cache", "bin", name+"-"+version)
		b.path = filepath.Join(dir, name)
		if _, err := os.Stat(b.path); err == nil {
			return
		}
		// Build into a temporary folder and rename, so an interrupted build
		// never leaves a broken binary to reuse.
		if b.err = os.MkdirAll(filepath.Dir(dir), 0o755); b.err != nil {
			return
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), name+"-build-")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(tmp)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install", "-tags", tags, pkg+"@"+version)
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-trimpath")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err: err, out: string(out)}
			return
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			b.err = err
			return
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			b.err = err
			return
		}
		t.Logf("built %s %s from the Go module proxy in %s", name, version, time.Since(start).Round(time.Second))
	})
	if b.err != nil {
		t.Fatalf("building %s %s (set %s=1 to skip these checks): %v", name, version, skipEnv, b.err)
	}
	return b.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// runHelm runs helm with args and returns its standard output.
func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	bin := helm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Keep Helm away from the user's repositories, plugins and kubeconfig.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home, "KUBECONFIG="+filepath.Join(home, "none"))
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
		return out, &buildError{err: err, out: string(out) + string(stderr)}
	}
	return out, err
}
