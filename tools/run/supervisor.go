package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/snotibridge/snotibridge/pkg/localstack"
)

// services in start order; they stop in the reverse order (input first),
// then Kafka.
var services = localstack.Services

type supervisor struct {
	cfg   config
	out   *output
	spawn *localstack.Spawner
	ports localstack.Ports

	stopping chan struct{} // closed on the first signal
	hurry    chan struct{} // closed on the second: stop without waiting
	children map[string]*localstack.Child
	wiring   map[string][]string // each service's own variables, for restarts
}

// supervise runs the stack until a signal or a child's exit and returns
// the exit code: 0 after a signal, 1 when a child ended the run or start
// failed.
func supervise(cfg config, sigs <-chan os.Signal) int {
	logs := filepath.Join(cfg.runDir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	out, err := newOutput(os.Stdout, filepath.Join(logs, "run.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	defer out.close()
	s := &supervisor{cfg: cfg, out: out, spawn: localstack.NewSpawner(), ports: cfg.ports(),
		stopping: make(chan struct{}), hurry: make(chan struct{}), children: map[string]*localstack.Child{}, wiring: map[string][]string{}}

	self := filepath.Join(cfg.runDir, "run.pid")
	if pid, ok, _ := pidFile(self, isSupervisor); ok && pid != os.Getpid() {
		out.say("make run is already running (pid %d, %s): stop it first", pid, self)
		return 1
	}
	_ = os.WriteFile(self, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	defer os.Remove(self)

	var once sync.Once
	go func() {
		for sig := range sigs {
			select {
			case <-s.stopping:
				once.Do(func() { close(s.hurry) })
				out.say("%s again: stopping without waiting", sig)
			default:
				out.say("%s: stopping", sig)
				close(s.stopping)
			}
		}
	}()

	b, err := s.startBroker()
	code := 0
	if err == nil {
		err = s.start(b)
	}
	if err != nil {
		out.say("%v", err)
		code = 1
	} else if !s.watch(b) {
		code = 1
	}
	s.stopAll(b)
	return code
}

// isSupervisor reports whether argv is this program.
func isSupervisor(args []string) bool {
	self, err := os.Executable()
	return err == nil && len(args) > 0 && filepath.Base(args[0]) == filepath.Base(self)
}

// runMarker is set in every child's environment, naming the run
// directory: what belongs to a run can be found in /proc (the tests do).
const runMarker = "SNOTIBRIDGE_RUN_DIR"

// env is the environment of every child.
func (s *supervisor) env() []string {
	return append(os.Environ(), runMarker+"="+s.cfg.runDir,
		fmt.Sprintf("KAFKA_BROKERS=127.0.0.1:%d", s.cfg.kafkaPort),
		"LOG_FORMAT="+s.cfg.logFormat, "LOG_LEVEL="+s.cfg.logLevel)
}

// ctx is cancelled by the first signal.
func (s *supervisor) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (s *supervisor) start(b *broker) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if !s.cfg.noBuild {
		s.out.say("building services into %s", s.cfg.binDir)
		if out, err := s.spawn.Output(localstack.BuildCommand(ctx, s.cfg.root, s.cfg.binDir)); err != nil {
			return fmt.Errorf("building services: %v\n%s", err, out)
		}
	}
	s.out.say("waiting for Kafka on %s, creating topics", b.addr)
	if err := s.waitReady(ctx, b); err != nil {
		return err
	}

	plan := localstack.Plan{Root: s.cfg.root, RunDir: s.cfg.runDir, Ports: s.ports, Devices: s.cfg.devices, Rate: float64(s.cfg.rate)}
	if err := plan.Prepare(); err != nil {
		return err
	}
	wiring := plan.Wiring()
	for _, n := range services {
		s.wiring[n] = wiring[n]
		if err := s.startService(n, wiring[n]); err != nil {
			return err
		}
		if f := plan.ReadyFile(n); f != "" {
			if err := s.waitFile(ctx, f, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *supervisor) startService(name string, env []string) error {
	cmd := exec.Command(filepath.Join(s.cfg.binDir, name))
	cmd.Dir = s.cfg.root
	cmd.Env = append(append(s.env(), fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", s.ports.HTTP[name])), env...)
	logPath := filepath.Join(s.cfg.runDir, "logs", name+".log")
	c, err := s.spawn.StartChild(name, logPath, cmd)
	if err != nil {
		return err
	}
	s.children[name] = c
	s.out.say("started %s (pid %d, log %s, metrics http://127.0.0.1:%d/metrics)", name, c.Pid(), s.rel(logPath), s.ports.HTTP[name])
	return nil
}

func (s *supervisor) rel(p string) string {
	if r, err := filepath.Rel(s.cfg.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// waitFile waits until a simulator has written path (its certificate or
// known_hosts), failing when that simulator exits first.
func (s *supervisor) waitFile(ctx context.Context, path, by string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.startBudget)
	defer cancel()
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return nil
		}
		c := s.children[by]
		select {
		case <-c.Exited():
			return fmt.Errorf("%s exited (%s) before writing %s: see %s", by, c.Status(), path, s.rel(c.Log))
		case <-ctx.Done():
			return fmt.Errorf("%s did not write %s: see %s", by, path, s.rel(c.Log))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// restartDelay is how long an exited service waits before its restart,
// doubling up to a minute while it keeps exiting quickly.
const restartDelay = 2 * time.Second

// watch prints progress until a signal (true) or until the broker exits
// (false). A service that exits is restarted, as Kubernetes would.
func (s *supervisor) watch(b *broker) bool {
	s.out.say("pipeline running; progress every %s (Ctrl-C stops everything)", s.cfg.interval)
	exits := make(chan *localstack.Child, 2*len(s.children)+1)
	watchOne := func(c *localstack.Child) {
		go func() {
			select {
			case <-c.Exited():
				exits <- c
			case <-s.stopping:
			}
		}()
	}
	for _, c := range s.children {
		watchOne(c)
	}
	if b.child != nil {
		watchOne(b.child)
	}
	brokerGone := time.NewTicker(time.Second) // a reused broker is no child: poll it
	defer brokerGone.Stop()
	tick := time.NewTicker(s.cfg.interval)
	defer tick.Stop()
	p := newProgress(s)
	delay := map[string]time.Duration{}
	started := map[string]time.Time{}
	restart := make(chan string, len(s.children))
	for {
		select {
		case <-s.stopping:
			return true
		case c := <-exits:
			if c.Name == "kafka" {
				s.out.say("the broker exited (%s); see %s", c.Status(), s.rel(c.Log))
				return false
			}
			d := delay[c.Name]
			if d == 0 || time.Since(started[c.Name]) > time.Minute {
				d = restartDelay
			}
			delay[c.Name] = min(2*d, time.Minute)
			s.out.say("%s exited (%s); restarting it in %s; see %s", c.Name, c.Status(), d, s.rel(c.Log))
			name := c.Name
			time.AfterFunc(d, func() { restart <- name })
		case name := <-restart:
			select {
			case <-s.stopping:
				return true
			default:
			}
			if err := s.startService(name, s.wiring[name]); err != nil {
				s.out.say("%v", err)
				return false
			}
			started[name] = time.Now()
			watchOne(s.children[name])
		case <-brokerGone.C:
			if !b.alive() {
				s.out.say("the broker (pid %d) is gone", b.reused)
				return false
			}
		case <-tick.C:
			p.report()
		}
	}
}

// stopAll stops the services in reverse start order (the ingest first, so
// nothing more is ACKed to SNoti and the consumers can drain), then Kafka.
// While the broker is up each service gets stopBudget to flush and commit;
// once it is gone there is nothing to flush to, so fastBudget.
func (s *supervisor) stopAll(b *broker) {
	s.out.say("stopping (input first): ingest, decoder, forwarders, simulators, then Kafka")
	for i := len(services) - 1; i >= 0; i-- {
		c := s.children[services[i]]
		if c == nil {
			continue
		}
		budget := s.cfg.stopBudget
		if b == nil || !b.alive() {
			budget = s.cfg.fastBudget
		}
		was := c.Alive()
		start := time.Now()
		killed := c.Stop(budget, s.hurry)
		switch {
		case !was:
			s.out.say("%s had exited (%s)", c.Name, c.Status())
		case killed:
			s.out.say("%s killed after %s", c.Name, time.Since(start).Round(time.Millisecond))
		default:
			s.out.say("%s stopped (%s)", c.Name, time.Since(start).Round(time.Millisecond))
		}
	}
	if b != nil {
		s.out.say("kafka %s", b.stop(s.cfg.stopBudget, s.hurry))
	}
	s.out.say("all stopped; logs in %s", s.rel(filepath.Join(s.cfg.runDir, "logs")))
}
