package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// startTimeout bounds the registry's start: the first run builds it with
// Maven (minutes), a JVM start on a loaded 2-core machine takes up to a
// minute.
const startTimeout = 10 * time.Minute

var shared struct {
	once sync.Once
	reg  *Registry
	err  error
}

// Registry is a running Apicurio Registry process.
type Registry struct {
	port   int
	log    *logBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// logBuffer keeps the registry's output (little: it logs warnings only)
// for the error of a failed start.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// URL returns the base URL of the shared registry's Confluent-compatible
// API, starting the registry on first use. Call Main from TestMain to stop
// it when the tests end (it dies with the test binary in any case).
func URL(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		shared.reg, shared.err = start()
	})
	if shared.err != nil {
		tb.Fatalf("starting Apicurio Registry: %v", shared.err)
	}
	return shared.reg.URL()
}

// Main runs the tests, then stops the shared registry if it was started,
// and returns m.Run's code: func TestMain(m *testing.M) {
// os.Exit(registrytest.Main(m)) }. Without it the registry is killed with
// the test binary.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.reg != nil {
		shared.reg.Stop()
	}
	return code
}

// URL is the base URL of the registry's Confluent-compatible API.
func (r *Registry) URL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", r.port)
}

// Stop ends the registry: SIGTERM, then SIGKILL after 30 s.
func (r *Registry) Stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

func start() (*Registry, error) {
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	// The build (first run only) happens here, outside the start deadline
	// of the JVM.
	if out, err := exec.Command(script, "fetch").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s fetch: %w\n%s", script, err, out)
	}
	port, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	logs := &logBuffer{}
	cmd := exec.Command(script, "run", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = logs, logs
	// registry.sh execs java: the JVM dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", script, err)
	}
	r := &Registry{port: port, log: logs, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := r.waitReady(ctx); err != nil {
		r.Stop()
		return nil, fmt.Errorf("%w\nregistry log:\n%s", err, logs.tail(4000))
	}
	return r, nil
}

// waitReady polls the Confluent API until it answers 200: the health
// endpoint turns UP a moment before the REST resources are served.
func (r *Registry) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.URL()+"/subjects", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.exited:
			return errors.New("the registry exited during start")
		case <-ctx.Done():
			return fmt.Errorf("the registry did not serve %s within %s", r.URL(), startTimeout)
		case <-tick.C:
		}
	}
}

// scriptPath finds the repository's script (testkit.RepoFile).
func scriptPath() (string, error) { return testkit.RepoFile("tools", "registry", "registry.sh") }
