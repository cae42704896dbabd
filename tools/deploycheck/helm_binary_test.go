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

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns the path of a Helm binary, building it on first use into
// .cache/bin/helm-<version>/ at the repository root (git-ignored) and
// reusing it afterwards. SNOTIBRIDGE_SKIP_HELM=1 skips the caller.
func helm(t *testing.T) string {
	t.Helper()
	if os.Getenv("SNOTIBRIDGE_SKIP_HELM") == "1" {
		t.Skip("SNOTIBRIDGE_SKIP_HELM=1: Helm chart checks skipped on request")
	}
	root := repoRoot(t)
	helmOnce.Do(func() {
		dir := filepath.Join(root, ".cache", "bin", "helm-"+helmVersion)
		helmPath = filepath.Join(dir, "helm")
		if _, err := os.Stat(helmPath); err == nil {
			return
		}
		// Build into a temporary folder and rename, so an interrupted build
		// never leaves a broken binary to reuse.
		if helmErr = os.MkdirAll(filepath.Dir(dir), 0o755); helmErr != nil {
			return
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "helm-build-")
		if err != nil {
			helmErr = err
			return
		}
		defer os.RemoveAll(tmp)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-trimpath")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			helmErr = &buildError{err: err, out: string(out)}
			return
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			helmErr = err
			return
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			helmErr = err
			return
		}
		t.Logf("built Helm %s from the Go module proxy in %s", helmVersion, time.Since(start).Round(time.Second))
	})
	if helmErr != nil {
		t.Fatalf("building Helm %s (set SNOTIBRIDGE_SKIP_HELM=1 to skip the chart checks): %v", helmVersion, helmErr)
	}
	return helmPath
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
