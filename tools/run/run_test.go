package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/localstack"
)

// The tests run the real stack (a broker of their own, every service) with
// a small fleet, and look for survivors by the run marker every child's
// environment carries, in /proc: grandchildren included.

var supervisorBin struct {
	once     sync.Once
	dir, bin string
	err      error
}

// build compiles the supervisor and the services once, for every run.
func build(t *testing.T) (bin, services string) {
	t.Helper()
	supervisorBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "run-test-bin-")
		if err != nil {
			supervisorBin.err = err
			return
		}
		supervisorBin.dir, supervisorBin.bin = dir, filepath.Join(dir, "snotibridge-run")
		if out, err := exec.Command("go", "build", "-o", supervisorBin.bin, ".").CombinedOutput(); err != nil {
			supervisorBin.err = fmt.Errorf("building the supervisor: %v\n%s", err, out)
			return
		}
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		if out, err := localstack.BuildCommand(context.Background(), root, filepath.Join(dir, "services")).CombinedOutput(); err != nil {
			supervisorBin.err = fmt.Errorf("building the services: %v\n%s", err, out)
		}
	})
	if supervisorBin.err != nil {
		t.Fatal(supervisorBin.err)
	}
	return supervisorBin.bin, filepath.Join(supervisorBin.dir, "services")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if supervisorBin.dir != "" {
		_ = os.RemoveAll(supervisorBin.dir)
	}
	os.Exit(code)
}

// freeBase finds 13 consecutive free ports in 10000–19999, a range of
// their own: below the kernel's ephemeral range (a port from it, free when
// chosen, can be taken by any outgoing connection before the program meant
// for it binds it) and apart from make chaos's test (20000 and up), whose
// programs hold and rebind theirs for a minute. Parallel tests of this
// package never get overlapping ranges.
func freeBase(t *testing.T) int {
	t.Helper()
	basesMu.Lock()
	defer basesMu.Unlock()
	for range 200 {
		base := 10000 + rand.IntN(10000-13)
		ok := true
		for _, b := range bases {
			if base < b+13 && b < base+13 {
				ok = false
			}
		}
		for p := base; p < base+13 && ok; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			_ = ln.Close()
		}
		if ok {
			bases = append(bases, base)
			return base
		}
	}
	t.Fatal("no 13 consecutive free ports")
	return 0
}

var (
	basesMu sync.Mutex
	bases   []int // handed out by freeBase
)

// run is one supervisor under test.
type run struct {
	cmd      *exec.Cmd
	dir      string // run dir: logs, marker
	kafkaDir string
	base     int // -port-base
	exited   chan struct{}
	err      error
}

// startRun starts a supervisor; prepare, when not nil, runs first.
func startRun(t *testing.T, stdout *os.File, prepare func(r *run)) *run {
	t.Helper()
	bin, services := build(t)
	dir := t.TempDir()
	r := &run{dir: filepath.Join(dir, "run"), kafkaDir: filepath.Join(dir, "kafka"), exited: make(chan struct{})}
	if prepare != nil {
		prepare(r)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	r.base = freeBase(t)
	r.cmd = exec.Command(bin, "-root", root, "-run-dir", r.dir, "-kafka-dir", r.kafkaDir, "-bin", services,
		"-no-build", "-port-base", strconv.Itoa(r.base), "-interval", "1s", "-devices", "20", "-rate", "50", "-log-level", "warn")
	r.cmd.Stdout, r.cmd.Stderr = stdout, stdout
	// Not Pdeathsig: the tests kill the supervisor themselves, and what it
	// started must die with it by its own doing.
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
		for _, pid := range r.members() { // never leave anything behind, even when the test failed
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(r.dir, "logs", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("%s:\n%s", filepath.Base(l), b)
			}
		}
	})
	return r
}

// members lists the live processes carrying this run's marker.
func (r *run) members() []int {
	marker := []byte(runMarker + "=" + r.dir + "\x00")
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && bytes.HasPrefix(st[i+1:], []byte(" Z")) {
				continue // a zombie is dead, waiting for its parent
			}
		}
		out = append(out, pid)
	}
	return out
}

func (r *run) log() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "logs", "run.log"))
	return string(b)
}

// waitLog waits until run.log satisfies cond.
func (r *run) waitLog(t *testing.T, timeout time.Duration, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond(r.log()) {
		select {
		case <-r.exited:
			t.Fatalf("the supervisor exited (%v) while waiting for %s", r.err, what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var flowing = regexp.MustCompile(`enos-sim +points [1-9]`)

// waitFlowing waits until the stack runs and events reach the emulators.
func (r *run) waitFlowing(t *testing.T) {
	t.Helper()
	r.waitLog(t, 8*time.Minute, "events ACKed and points at EnOS", func(s string) bool {
		return strings.Contains(s, "pipeline running") && flowing.MatchString(s)
	})
}

// waitNoSurvivor waits until no process of the run is alive.
func (r *run) waitNoSurvivor(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := r.members()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, pid := range left {
				args, _ := cmdline(pid)
				desc = append(desc, fmt.Sprintf("%d %.80s", pid, strings.Join(args, " ")))
			}
			t.Fatalf("%d processes of the run survive %s after the supervisor ended: %s", len(left), timeout, strings.Join(desc, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestKilledSupervisorLeavesNoChild(t *testing.T) {
	t.Parallel()
	r := startRun(t, nil, nil)
	r.waitFlowing(t)
	if n := len(r.members()); n < 7 {
		t.Fatalf("%d processes carry the run marker, want at least 7 (Kafka and six services)", n)
	}
	// A service that dies is restarted (and dies with the supervisor too).
	var decoder int
	for _, pid := range r.members() {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); filepath.Base(exe) == "decoder" {
			decoder = pid
		}
	}
	if decoder == 0 {
		t.Fatal("no decoder process in the run")
	}
	_ = syscall.Kill(decoder, syscall.SIGKILL)
	r.waitLog(t, time.Minute, "the decoder restarted", func(s string) bool {
		i := strings.Index(s, "decoder exited (signal: killed); restarting")
		return i >= 0 && strings.Contains(s[i:], "started decoder")
	})
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.exited
	r.waitNoSurvivor(t, 10*time.Second)
}

func TestClosedStdoutThenSIGHUPStopsInOrder(t *testing.T) {
	t.Parallel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r := startRun(t, pw, nil)
	_ = pw.Close()
	// The reader (a `tee` or `head`) goes away after the first lines.
	sc := bufio.NewScanner(pr)
	for sc.Scan() && !strings.Contains(sc.Text(), "starting Apache Kafka") {
	}
	_ = pr.Close()
	r.waitFlowing(t)
	r.waitLog(t, time.Minute, "the closed stdout noticed", func(s string) bool { return strings.Contains(s, "stdout closed") })
	n := strings.Count(r.log(), "LAST ERROR") // one per progress table
	r.waitLog(t, time.Minute, "progress going on in run.log", func(s string) bool { return strings.Count(s, "LAST ERROR") >= n+2 })

	// snoti-sim queues each event once: for the ingest's v1 queue, and no
	// v2 queue that nobody reads.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/sim/ledger", r.base+11)) // snoti-sim's control API
	if err != nil {
		t.Fatal(err)
	}
	var ledger struct {
		Summary struct{ Events, Messages, Acks uint64 }
	}
	err = json.NewDecoder(resp.Body).Decode(&ledger)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s := ledger.Summary; s.Events == 0 || s.Messages > s.Events {
		t.Errorf("snoti-sim queued %d copies of %d events: want one queue, the one the ingest reads", s.Messages, s.Events)
	}

	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil { // the terminal closed
		t.Fatal(err)
	}
	select {
	case <-r.exited:
	case <-time.After(3 * time.Minute):
		t.Fatal("the supervisor did not stop within 3 minutes of SIGHUP")
	}
	if r.err != nil {
		t.Errorf("supervisor exit after SIGHUP: %v, want 0", r.err)
	}
	r.waitNoSurvivor(t, 5*time.Second)
	log := r.log()
	last := -1
	for _, want := range []string{"SIGHUP", "ingest stopped", "decoder stopped", "energisme-forwarder stopped", "enos-forwarder stopped",
		"snoti-sim stopped", "sink-sim stopped", "kafka stopped", "all stopped"} {
		i := strings.Index(log, want)
		if i < 0 || i < last {
			t.Fatalf("run.log: %q missing or out of order (ingest first, Kafka last)", want)
		}
		last = i
	}
	if _, err := os.Stat(filepath.Join(r.kafkaDir, "kafka.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kafka.pid left behind: %v", err)
	}
	t.Logf("stopped in order %s after SIGHUP, stdout closed long before", time.Since(start).Round(time.Millisecond))
}

func TestBrokerGoneStopsFastAndStalePidIgnored(t *testing.T) {
	t.Parallel()
	r := startRun(t, nil, func(r *run) {
		// A pid file naming a live process that is not a broker (the test
		// itself): it must be ignored, and that process left alone.
		if err := os.MkdirAll(r.kafkaDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.kafkaDir, "kafka.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	r.waitFlowing(t)
	if !strings.Contains(r.log(), "ignoring the stale") {
		t.Error("run.log does not report the stale pid file")
	}
	var broker int
	for _, pid := range r.members() {
		if args, _ := cmdline(pid); isBrokerOf(r.kafkaDir)(args) {
			broker = pid
		}
	}
	if broker == 0 {
		t.Fatal("no broker process of this run's kafka dir")
	}
	start := time.Now()
	_ = syscall.Kill(broker, syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(time.Minute):
		t.Fatal("the supervisor did not stop within a minute of losing its broker")
	}
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(r.err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit %v, want 1 (the broker ended the run)", r.err)
	}
	r.waitNoSurvivor(t, 5*time.Second)
	// Six services at most 2 s each (the fast budget), and some slack.
	if took > 25*time.Second {
		t.Errorf("stopping took %s with the broker gone, want well under the 30 s per service budget", took)
	}
	t.Logf("broker kill -9 → whole stack stopped in %s", took.Round(time.Millisecond))
}
