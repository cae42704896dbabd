package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/localstack"
)

// Topics of the stack (the services' defaults).
const (
	topicEvents    = "snoti.events.v1"
	topicTelemetry = "device.telemetry.v1"
)

// stack is the cluster and the services, each restarted when it exits (as
// Kubernetes would), whether the chaos killed it or not.
type stack struct {
	cfg     config
	log     func(format string, args ...any)
	spawn   *localstack.Spawner
	cluster *kafkatest.Cluster
	plan    localstack.Plan
	wiring  map[string][]string
	brokers string // KAFKA_BROKERS

	mu        sync.Mutex
	children  map[string]*localstack.Child
	killed    map[*localstack.Child]bool // exits the chaos caused
	unplanned map[string]int             // exits it did not cause
	stopping  bool
	restarts  sync.WaitGroup
}

// freePorts finds n free ports below the kernel's ephemeral range: a port
// from that range, free when it is chosen, can be taken by any outgoing
// connection before the program meant for it (re)binds it — and the
// programs here are restarted, and the SFTP server stopped and started,
// for minutes.
func freePorts(n int) ([]int, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 2048 {
				low = v
			}
		}
	}
	// From 20000: tools/run's tests take 10000–19999 (make test runs both).
	from := 20000 + rand.IntN(max(1, low-20000-10*n)) // other runs start elsewhere
	var out []int
	for p := from; p < low && len(out) < n; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		_ = l.Close()
		out = append(out, p)
	}
	if len(out) < n {
		return nil, fmt.Errorf("only %d free ports in %d..%d", len(out), from, low)
	}
	return out, nil
}

func newStack(cfg config, log func(string, ...any)) (*stack, error) {
	p, err := freePorts(11)
	if err != nil {
		return nil, err
	}
	ports := localstack.Ports{SNoti: p[0], Sink: p[1], SFTP: p[2], SimControl: p[3], EnterpriseAPI: p[4], HTTP: map[string]int{}}
	for i, n := range localstack.Services {
		ports.HTTP[n] = p[5+i]
	}
	s := &stack{cfg: cfg, log: log, spawn: localstack.NewSpawner(),
		plan:     localstack.Plan{Root: cfg.root, RunDir: filepath.Join(cfg.dir, "run"), Ports: ports, Devices: cfg.devices, Rate: cfg.rate},
		children: map[string]*localstack.Child{}, killed: map[*localstack.Child]bool{}, unplanned: map[string]int{}}
	return s, nil
}

// start builds the services (unless -no-build), starts the cluster,
// creates the topics and starts the services in order.
func (s *stack) start(ctx context.Context) error {
	if !s.cfg.noBuild {
		s.log("building the services into %s", s.cfg.binDir)
		if out, err := s.spawn.Output(localstack.BuildCommand(ctx, s.cfg.root, s.cfg.binDir)); err != nil {
			return fmt.Errorf("building the services: %v\n%s", err, out)
		}
	}
	if err := os.MkdirAll(filepath.Join(s.plan.RunDir, "logs"), 0o755); err != nil {
		return err
	}
	s.log("starting a 3-node KRaft cluster (data and logs in %s)", filepath.Join(s.cfg.dir, "kafka"))
	cl, err := kafkatest.NewCluster(filepath.Join(s.cfg.dir, "kafka"), 3)
	if err != nil {
		return err
	}
	s.cluster = cl
	if err := cl.Start(); err != nil {
		return fmt.Errorf("starting the cluster: %w", err)
	}
	s.brokers = strings.Join(cl.Brokers(), ",")
	s.log("cluster up on %s; creating the topics (RF=3, min.insync.replicas=2)", s.brokers)
	if err := s.ensureTopics(ctx); err != nil {
		return err
	}
	s.log("topics ready; starting %s", strings.Join(localstack.Services, ", "))
	if err := s.plan.Prepare(); err != nil {
		return err
	}
	s.wiring = s.plan.Wiring()
	n := s.cfg.events()
	over := map[string][]string{
		// sim_seq in every push names the event end to end; the ledger
		// keeps every message of the run.
		"snoti-sim": {"SNOTI_SIM_TRACE=true", fmt.Sprintf("SNOTI_SIM_MAX_EVENTS=%d", n), fmt.Sprintf("SNOTI_SIM_SEED=%d", s.cfg.seed),
			fmt.Sprintf("SNOTI_SIM_LEDGER_SIZE=%d", max(262144, 2*n)), fmt.Sprintf("SNOTI_SIM_MAX_BACKLOG=%d", max(100000, 2*n))},
		"ingest":              {"SNOTI_CONNECTIONS=2"},
		"enos-forwarder":      {"ENOS_REQUEST_TIMEOUT=5s"},
		"energisme-forwarder": {"ENERGISME_REQUEST_TIMEOUT=5s", "ENERGISME_FILE_INTERVAL=" + s.cfg.fileWindow.String()},
	}
	for name, vars := range over {
		s.wiring[name] = append(s.wiring[name], vars...)
	}
	for _, name := range localstack.Services {
		if err := s.startService(name); err != nil {
			return err
		}
		if f := s.plan.ReadyFile(name); f != "" {
			if err := s.waitFile(ctx, name, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureTopics runs bridgectl topics ensure until it succeeds (a new
// cluster's controller may need a moment), then waits for full ISRs.
func (s *stack) ensureTopics(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last string
	for {
		cmd := exec.CommandContext(ctx, filepath.Join(s.cfg.binDir, "bridgectl"), "topics", "ensure")
		cmd.Env = append(os.Environ(), "KAFKA_BROKERS="+s.brokers, "TOPIC_REPLICATION_FACTOR=3", "TOPIC_MIN_INSYNC_REPLICAS=2")
		out, err := s.spawn.Output(cmd)
		if err == nil {
			break
		}
		last = strings.TrimSpace(string(out))
		select {
		case <-ctx.Done():
			return fmt.Errorf("bridgectl topics ensure: %s", last)
		case <-time.After(time.Second):
		}
	}
	for _, t := range []string{topicEvents, topicTelemetry} {
		if err := s.cluster.WaitISR(ctx, t, 3); err != nil {
			return err
		}
	}
	return nil
}

func (s *stack) env(name string) []string {
	return append(append(os.Environ(), "KAFKA_BROKERS="+s.brokers, fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", s.plan.Ports.HTTP[name]),
		"LOG_FORMAT=json", "LOG_LEVEL=info"), s.wiring[name]...)
}

// startService starts one service and restarts it whenever it exits,
// until stopAll.
func (s *stack) startService(name string) error {
	cmd := exec.Command(filepath.Join(s.cfg.binDir, name))
	cmd.Dir = s.cfg.root
	cmd.Env = s.env(name)
	c, err := s.spawn.StartChild(name, filepath.Join(s.plan.RunDir, "logs", name+".log"), cmd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.children[name] = c
	s.mu.Unlock()
	go s.watch(c)
	return nil
}

// restartDelay is how long a service that exited by itself waits.
const restartDelay = 2 * time.Second

func (s *stack) watch(c *localstack.Child) {
	<-c.Exited()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.killed[c] {
		return // stopped, or killed by a fault that restarts it itself
	}
	s.unplanned[c.Name]++
	s.log("%s exited by itself (%s): restarting it in %s; see %s", c.Name, c.Status(), restartDelay, c.Log)
	s.restarts.Add(1)
	time.AfterFunc(restartDelay, func() {
		defer s.restarts.Done()
		s.restart(c.Name)
	})
}

func (s *stack) restart(name string) {
	s.mu.Lock()
	c := s.children[name]
	busy := s.stopping || c != nil && c.Alive() // stopping, or restarted already
	s.mu.Unlock()
	if busy {
		return
	}
	if err := s.startService(name); err != nil {
		s.log("restarting %s: %v", name, err)
	}
}

// kill ends a service with SIGKILL and starts it again after down. It
// reports false, doing nothing, when the service is down already.
func (s *stack) kill(name string, down time.Duration) bool {
	s.mu.Lock()
	c := s.children[name]
	if c == nil || !c.Alive() || s.stopping {
		s.mu.Unlock()
		return false
	}
	s.killed[c] = true
	s.mu.Unlock()
	c.Kill()
	time.Sleep(down) // the outage itself
	s.restart(name)
	return true
}

func (s *stack) waitFile(ctx context.Context, name, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return nil
		}
		s.mu.Lock()
		c := s.children[name]
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not write %s: see %s", name, path, c.Log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// allRunning reports whether every service is up and every node running.
func (s *stack) allRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range localstack.Services {
		if c := s.children[n]; c == nil || !c.Alive() {
			return false
		}
	}
	for _, b := range s.cluster.Nodes {
		if !b.Running() {
			return false
		}
	}
	return true
}

// stopAll stops the services input first, then the cluster.
func (s *stack) stopAll() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.restarts.Wait()
	for i := len(localstack.Services) - 1; i >= 0; i-- {
		s.mu.Lock()
		c := s.children[localstack.Services[i]]
		s.mu.Unlock()
		if c != nil {
			c.Stop(20*time.Second, nil)
		}
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
}

// unplannedExits is every exit the chaos did not cause, by service.
func (s *stack) unplannedExits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.unplanned {
		out[k] = v
	}
	return out
}
