package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// startTimeout bounds a broker start: a JVM on a busy 2-core machine can
// take a while.
const startTimeout = 5 * time.Minute

// Broker is a single-node KRaft broker owned by its creator. Its data
// survives Kill and Start, as a real broker's disk would.
type Broker struct {
	dir   string
	port  int
	cport int
	ssl   *SSLListener
	sport int
	id    int      // node id (1 for a single broker)
	env   []string // KAFKA_* settings of a cluster node for kafka.sh

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
}

// StartBroker starts a broker that belongs to the test and is stopped when
// the test ends.
func StartBroker(tb testing.TB) *Broker {
	tb.Helper()
	b, err := newBroker(tb.TempDir())
	if err != nil {
		tb.Fatalf("starting Kafka: %v", err)
	}
	tb.Cleanup(func() { b.Stop() })
	if err := b.Start(); err != nil {
		tb.Fatalf("starting Kafka: %v", err)
	}
	return b
}

// SSLListener is a second, TLS listener on 127.0.0.1 (Broker.SSLAddr).
type SSLListener struct {
	// KeystoreFile holds the broker's certificate chain and its PKCS#8
	// private key, unencrypted, PEM (Kafka's ssl.keystore.type=PEM).
	KeystoreFile string
	// TruststoreFile holds the CA certificates (PEM) that client
	// certificates are checked against.
	TruststoreFile string
	// ClientAuth is Kafka's ssl.client.auth: required, requested or none.
	ClientAuth string
}

// StartBrokerWithSSL is StartBroker with a TLS listener besides the
// plaintext one, e.g. to test client certificates.
func StartBrokerWithSSL(tb testing.TB, l SSLListener) *Broker {
	tb.Helper()
	b, err := newBroker(tb.TempDir())
	if err != nil {
		tb.Fatalf("starting Kafka: %v", err)
	}
	if b.sport, err = testkit.FreePort(); err != nil {
		tb.Fatalf("starting Kafka: %v", err)
	}
	b.ssl = &l
	tb.Cleanup(func() { b.Stop() })
	if err := b.Start(); err != nil {
		tb.Fatalf("starting Kafka: %v", err)
	}
	return b
}

// SSLAddr is the TLS listener's address ("" without one).
func (b *Broker) SSLAddr() string {
	if b.ssl == nil {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", b.sport)
}

// writeExtraProperties writes what kafka.sh appends to server.properties.
func (b *Broker) writeExtraProperties() error {
	if b.ssl == nil {
		return nil
	}
	props := fmt.Sprintf(`listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d,SSL://127.0.0.1:%[3]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d,SSL://127.0.0.1:%[3]d
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL
ssl.client.auth=%[4]s
ssl.keystore.type=PEM
ssl.keystore.location=%[5]s
ssl.truststore.type=PEM
ssl.truststore.location=%[6]s
`, b.port, b.cport, b.sport, b.ssl.ClientAuth, b.ssl.KeystoreFile, b.ssl.TruststoreFile)
	return os.WriteFile(filepath.Join(b.dir, "extra.properties"), []byte(props), 0o600)
}

func newBroker(dir string) (*Broker, error) {
	port, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	cport, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	return &Broker{dir: dir, port: port, cport: cport, id: 1}, nil
}

// ID is the broker's node id.
func (b *Broker) ID() int { return b.id }

// Addr is the broker's bootstrap address.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// Start (re)starts the broker process and waits until it serves requests.
func (b *Broker) Start() error {
	if err := b.launch(); err != nil {
		return err
	}
	return b.waitReady()
}

// launch starts the process without waiting: a cluster's nodes must all be
// up before any of them is ready.
func (b *Broker) launch() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return errors.New("broker already running")
	}
	script, err := scriptPath()
	if err != nil {
		return err
	}
	if err := b.writeExtraProperties(); err != nil {
		return fmt.Errorf("writing broker properties: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(b.dir, "kafka.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening broker log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(script, "run", b.dir, fmt.Sprint(b.port), fmt.Sprint(b.cport))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), b.env...)
	// The broker dies with the test binary, even on a crash or timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", script, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.cmd, b.exited = cmd, exited
	return nil
}

func (b *Broker) waitReady() error {
	b.mu.Lock()
	exited := b.exited
	b.mu.Unlock()
	if exited == nil {
		return errors.New("broker not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := waitReady(ctx, b.Addr(), exited); err != nil {
		tail, _ := os.ReadFile(filepath.Join(b.dir, "kafka.log"))
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return fmt.Errorf("%w\nbroker log:\n%s", err, tail)
	}
	return nil
}

// Running reports whether the broker process is alive.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Pid is the broker process's id, 0 when it is not running.
func (b *Broker) Pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// Kill ends the broker with SIGKILL: no flush, no controlled shutdown.
func (b *Broker) Kill() { b.signal(syscall.SIGKILL) }

// Stop ends the broker with SIGTERM (controlled shutdown), escalating to
// SIGKILL after 30 s. Safe to call when it is not running.
func (b *Broker) Stop() { b.signal(syscall.SIGTERM) }

func (b *Broker) signal(sig syscall.Signal) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(sig)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	b.cmd, b.exited = nil, nil
}

// scriptPath finds the repository's script (testkit.RepoFile).
func scriptPath() (string, error) { return testkit.RepoFile("tools", "kafka", "kafka.sh") }
