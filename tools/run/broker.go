package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/snotibridge/snotibridge/pkg/localstack"
)

// pidFile reads a pid file and reports the pid only when that process is
// alive and is what want says it is: a pid file outlives its process (kill
// -9, reboot) and its number is reused, so it is never trusted alone.
func pidFile(path string, want func(args []string) bool) (pid int, ok bool, stale bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false, true
	}
	args, err := cmdline(pid)
	if err != nil || !want(args) {
		return pid, false, true
	}
	return pid, true, false
}

// cmdline is a process's argv from /proc (Linux).
func cmdline(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	if len(b) == 0 { // a zombie
		return nil, fmt.Errorf("process %d has exited", pid)
	}
	return strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00"), nil
}

// isBrokerOf reports whether argv is the broker of data directory dir:
// the JVM running kafka.Kafka with dir's server.properties, or kafka.sh
// run dir still resolving, formatting and about to exec it.
func isBrokerOf(dir string) func(args []string) bool {
	props := filepath.Join(dir, "server.properties")
	return func(args []string) bool {
		var main, conf, script, run, d bool
		for _, a := range args {
			switch {
			case a == "kafka.Kafka":
				main = true
			case filepath.Clean(a) == props:
				conf = true
			case filepath.Base(a) == "kafka.sh":
				script = true
			case a == "run":
				run = true
			case filepath.Clean(a) == dir:
				d = true
			}
		}
		return main && conf || script && run && d
	}
}

// portInUse reports whether something accepts connections on 127.0.0.1:port.
func portInUse(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 500*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// broker is the Kafka the stack runs on: a child of the supervisor, or the
// dev broker that `make kafka-up` started (then it is left running).
type broker struct {
	child    *localstack.Child // nil when reused
	reused   int               // its pid when reused
	pidPath  string
	addr     string
	kafkaDir string
}

func (b *broker) alive() bool {
	if b.child != nil {
		return b.child.Alive()
	}
	return syscall.Kill(b.reused, 0) == nil
}

// startBroker reuses the dev broker when its pid file names it, and
// otherwise starts one as a child (kafka.sh run: the pid is the JVM's, as
// the script execs it).
func (s *supervisor) startBroker() (*broker, error) {
	c := s.cfg
	b := &broker{pidPath: filepath.Join(c.kafkaDir, "kafka.pid"), addr: fmt.Sprintf("127.0.0.1:%d", c.kafkaPort), kafkaDir: c.kafkaDir}
	pid, ok, stale := pidFile(b.pidPath, isBrokerOf(c.kafkaDir))
	switch {
	case ok:
		b.reused = pid
		s.out.say("reusing the broker of %s (pid %d, started by make kafka-up): it is left running, make kafka-down stops it", c.kafkaDir, pid)
		return b, nil
	case stale:
		s.out.say("ignoring the stale %s (pid %d is not this directory's broker)", b.pidPath, pid)
		_ = os.Remove(b.pidPath)
	}
	for _, p := range []int{c.kafkaPort, c.kafkaCPort} {
		if portInUse(p) {
			return nil, fmt.Errorf("127.0.0.1:%d is in use by a process that is not the broker of %s: stop it, or choose other ports with KAFKA_PORT and KAFKA_CPORT", p, c.kafkaDir)
		}
	}
	if err := os.MkdirAll(c.kafkaDir, 0o755); err != nil {
		return nil, err
	}
	// Formatting first, as a child of its own: kafka.sh execs the storage
	// tool, so no grandchild of the supervisor can outlive it.
	ctx, cancel := s.ctx()
	defer cancel()
	var id [16]byte
	_, _ = rand.Read(id[:])
	format := exec.CommandContext(ctx, filepath.Join(c.root, "tools", "kafka", "kafka.sh"), "format", c.kafkaDir, strconv.Itoa(c.kafkaPort), strconv.Itoa(c.kafkaCPort))
	format.Env = append(s.env(), "KAFKA_CLUSTER_ID="+base64.RawURLEncoding.EncodeToString(id[:]))
	if out, err := s.spawn.Output(format); err != nil {
		return nil, fmt.Errorf("formatting the broker's storage in %s: %v\n%s", c.kafkaDir, err, out)
	}
	s.out.say("starting Apache Kafka on %s (log %s)", b.addr, filepath.Join(c.kafkaDir, "kafka.log"))
	cmd := exec.Command(filepath.Join(c.root, "tools", "kafka", "kafka.sh"), "run", c.kafkaDir, strconv.Itoa(c.kafkaPort), strconv.Itoa(c.kafkaCPort))
	cmd.Env = s.env()
	ch, err := s.spawn.StartChild("kafka", filepath.Join(c.kafkaDir, "kafka.log"), cmd)
	if err != nil {
		return nil, err
	}
	b.child = ch
	// For kafka.sh start/stop and a later run: they check the pid too.
	_ = os.WriteFile(b.pidPath, []byte(strconv.Itoa(ch.Pid())+"\n"), 0o644)
	return b, nil
}

// waitReady waits until the broker accepts connections and `bridgectl
// topics ensure` succeeds (the controller may need a moment more).
func (s *supervisor) waitReady(ctx context.Context, b *broker) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.startBudget)
	defer cancel()
	var last string
	for {
		if !b.alive() {
			return fmt.Errorf("the broker exited during start: see %s", filepath.Join(b.kafkaDir, "kafka.log"))
		}
		if portInUse(s.cfg.kafkaPort) {
			cmd := exec.CommandContext(ctx, filepath.Join(s.cfg.binDir, "bridgectl"), "topics", "ensure")
			cmd.Env = s.env()
			out, err := s.spawn.Output(cmd)
			if err == nil {
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					s.out.say("  %s", strings.TrimSpace(l))
				}
				return waitCoordinators(ctx, b.addr)
			}
			last = strings.TrimSpace(string(out))
		}
		select {
		case <-ctx.Done():
			if last != "" {
				return fmt.Errorf("creating topics on %s: %s", b.addr, last)
			}
			return fmt.Errorf("the broker did not accept connections on %s within %s", b.addr, s.cfg.startBudget)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// stop stops the broker the supervisor started (SIGTERM: a controlled
// shutdown), and leaves a reused one alone.
func (b *broker) stop(budget time.Duration, hurry <-chan struct{}) string {
	if b.child == nil {
		return "left running (make kafka-down stops it)"
	}
	killed := b.child.Stop(budget, hurry)
	if pid, ok, _ := pidFile(b.pidPath, func([]string) bool { return true }); ok || pid == b.child.Pid() {
		_ = os.Remove(b.pidPath)
	}
	if killed {
		return "killed after " + budget.String()
	}
	return "stopped"
}
