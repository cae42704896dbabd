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
)

// services in start order; they stop in the reverse order (input first),
// then Kafka.
var services = []string{"sink-sim", "snoti-sim", "enos-forwarder", "energisme-forwarder", "decoder", "ingest"}

type supervisor struct {
	cfg   config
	out   *output
	spawn *spawner
	ports ports

	stopping chan struct{} // closed on the first signal
	hurry    chan struct{} // closed on the second: stop without waiting
	children map[string]*child
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
	s := &supervisor{cfg: cfg, out: out, spawn: newSpawner(), ports: cfg.ports(),
		stopping: make(chan struct{}), hurry: make(chan struct{}), children: map[string]*child{}, wiring: map[string][]string{}}

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
		if out, err := s.spawn.output(buildCommand(ctx, s.cfg.root, s.cfg.binDir)); err != nil {
			return fmt.Errorf("building services: %v\n%s", err, out)
		}
	}
	s.out.say("waiting for Kafka on %s, creating topics", b.addr)
	if err := s.waitReady(ctx, b); err != nil {
		return err
	}

	run, p := s.cfg.runDir, s.ports
	// snoti-sim declares only the v1 enterprise queue the ingest reads: a
	// products file without subkeys keeps the EV charger product (so the
	// codecs and mappings apply) but no v2 queue that nobody consumes.
	products := filepath.Join(run, "snoti-sim", "products.json")
	if err := os.MkdirAll(filepath.Dir(products), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(products, []byte(`[{"product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","auth_id":"sim-auth-id","auth_secret":"sim-auth-secret","subkeys":[]}]`+"\n"), 0o644); err != nil {
		return err
	}
	ca, knownHosts := filepath.Join(run, "snoti-sim", "ca.pem"), filepath.Join(run, "sink-sim", "known_hosts")
	_ = os.Remove(ca)
	_ = os.Remove(knownHosts)
	sink := fmt.Sprintf("http://127.0.0.1:%d", p.sink)
	root := s.cfg.root
	wiring := map[string][]string{
		"sink-sim": {fmt.Sprintf("SINK_SIM_ADDR=127.0.0.1:%d", p.sink), fmt.Sprintf("SINK_SIM_SFTP_ADDR=127.0.0.1:%d", p.sftp),
			"SINK_SIM_SFTP_ROOT=" + filepath.Join(run, "sink-sim", "sftp"), "SINK_SIM_SFTP_HOST_KEY_FILE=" + filepath.Join(run, "sink-sim", "ssh_host_ed25519_key"),
			"SINK_SIM_SFTP_KNOWN_HOSTS_FILE=" + knownHosts},
		"snoti-sim": {fmt.Sprintf("SNOTI_SIM_ADDR=127.0.0.1:%d", p.snoti), "SNOTI_SIM_CA_OUT=" + ca, "SNOTI_SIM_PRODUCTS_FILE=" + products,
			"SNOTI_SIM_EVENT_MIX=default", // the v1 event types: the ingest logs in with v1
			fmt.Sprintf("SNOTI_SIM_CONTROL_ADDR=127.0.0.1:%d", p.simControl), fmt.Sprintf("SNOTI_SIM_ENTERPRISE_API_ADDR=127.0.0.1:%d", p.enterpriseAPI),
			fmt.Sprintf("SNOTI_SIM_DEVICES=%d", s.cfg.devices), fmt.Sprintf("SNOTI_SIM_RATE=%d", s.cfg.rate)},
		"enos-forwarder": {"ENOS_APIM_URL=" + sink, "ENOS_API_URL=" + sink, "ENOS_ACCESS_KEY=sim-access-key", "ENOS_SECRET_KEY=sim-secret-key",
			"ENOS_ORG_ID=sim-org", "ENOS_MAPPING_FILE=" + filepath.Join(root, "services", "enos-forwarder", "mapping.example.json")},
		"energisme-forwarder": {"ENERGISME_URL=" + sink + "/push", "ENERGISME_TOKEN=sim-token",
			"ENERGISME_MAPPING_FILE=" + filepath.Join(root, "services", "energisme-forwarder", "mapping.example.json"),
			fmt.Sprintf("ENERGISME_SFTP_ADDR=127.0.0.1:%d", p.sftp), "ENERGISME_SFTP_USER=energisme", "ENERGISME_SFTP_PASSWORD=energisme",
			"ENERGISME_SFTP_KNOWN_HOSTS=" + knownHosts, "ENERGISME_SFTP_DIR=/", "ENERGISME_FILE_INTERVAL=1m"},
		"decoder": {"CODECS_DIR=" + filepath.Join(root, "services", "decoder", "codecs")},
		"ingest": {fmt.Sprintf("SNOTI_ADDR=127.0.0.1:%d", p.snoti), "SNOTI_PROTOCOL=v1", "SNOTI_ENTERPRISE_ID=sim-enterprise",
			"SNOTI_ENTERPRISE_SECRET=sim-secret", "SNOTI_CA_FILE=" + ca, "SNOTI_PREFETCH=1000",
			// Device commands: SNoti v1 has no remote control, so they go
			// through snoti-sim's Enterprise API to the same virtual devices.
			"COMMANDS_ENABLED=true", "COMMANDS_PATH=enterprise_api", fmt.Sprintf("GIZWITS_API_URL=http://127.0.0.1:%d", p.enterpriseAPI),
			"GIZWITS_PRODUCT_SECRETS=3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b:sim-product-secret"},
	}
	for _, n := range services {
		s.wiring[n] = wiring[n]
		if err := s.startService(n, wiring[n]); err != nil {
			return err
		}
		switch n {
		case "sink-sim":
			if err := s.waitFile(ctx, knownHosts, n); err != nil {
				return err
			}
		case "snoti-sim":
			if err := s.waitFile(ctx, ca, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildCommand builds bridgectl and every service into dir.
func buildCommand(ctx context.Context, root, dir string) *exec.Cmd {
	pkgs := []string{"./services/bridgectl"}
	for _, n := range services {
		pkgs = append(pkgs, "./services/"+n)
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}

func (s *supervisor) startService(name string, env []string) error {
	cmd := exec.Command(filepath.Join(s.cfg.binDir, name))
	cmd.Dir = s.cfg.root
	cmd.Env = append(append(s.env(), fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", s.ports.http[name])), env...)
	logPath := filepath.Join(s.cfg.runDir, "logs", name+".log")
	c, err := s.spawn.startChild(name, logPath, cmd)
	if err != nil {
		return err
	}
	s.children[name] = c
	s.out.say("started %s (pid %d, log %s, metrics http://127.0.0.1:%d/metrics)", name, c.pid(), s.rel(logPath), s.ports.http[name])
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
		case <-c.exited:
			return fmt.Errorf("%s exited (%s) before writing %s: see %s", by, c.status(), path, s.rel(c.log))
		case <-ctx.Done():
			return fmt.Errorf("%s did not write %s: see %s", by, path, s.rel(c.log))
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
	exits := make(chan *child, 2*len(s.children)+1)
	watchOne := func(c *child) {
		go func() {
			select {
			case <-c.exited:
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
			if c.name == "kafka" {
				s.out.say("the broker exited (%s); see %s", c.status(), s.rel(c.log))
				return false
			}
			d := delay[c.name]
			if d == 0 || time.Since(started[c.name]) > time.Minute {
				d = restartDelay
			}
			delay[c.name] = min(2*d, time.Minute)
			s.out.say("%s exited (%s); restarting it in %s; see %s", c.name, c.status(), d, s.rel(c.log))
			name := c.name
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
		was := c.alive()
		start := time.Now()
		killed := c.stop(budget, s.hurry)
		switch {
		case !was:
			s.out.say("%s had exited (%s)", c.name, c.status())
		case killed:
			s.out.say("%s killed after %s", c.name, time.Since(start).Round(time.Millisecond))
		default:
			s.out.say("%s stopped (%s)", c.name, time.Since(start).Round(time.Millisecond))
		}
	}
	if b != nil {
		s.out.say("kafka %s", b.stop(s.cfg.stopBudget, s.hurry))
	}
	s.out.say("all stopped; logs in %s", s.rel(filepath.Join(s.cfg.runDir, "logs")))
}
