// Command run is `make run`: the whole pipeline on this machine, no Docker.
// It starts the local Apache Kafka broker (tools/kafka/kafka.sh run, as its
// own child), creates the topics, and runs sink-sim, snoti-sim, both
// forwarders, the decoder and the ingest, wired with the example codec and
// mapping files, showing a live progress table (table.go, progress.go).
//
// Nothing it starts can outlive it: every child gets Pdeathsig=SIGKILL (the
// kernel kills it when the supervisor dies, even by SIGKILL) and a process
// group of its own (a Ctrl-C reaches only the supervisor, which stops the
// children in order: ingest first, Kafka last). SIGINT, SIGTERM and SIGHUP
// all stop the stack; a second one stops it without waiting. A closed stdout
// (`make run | head`) is survived: progress goes on in .run/logs/run.log.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/snotibridge/snotibridge/pkg/localstack"
)

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(2)
	}
	// A write to a closed stdout must return EPIPE, not kill the
	// supervisor (Go's default for fd 1 and 2) and orphan nothing but
	// leave the stack stopped uncleanly.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	os.Exit(supervise(cfg, sigs))
}

// config is what the supervisor needs; flags default to the variables
// the former tools/run.sh read, so `KAFKA_PORT=9192 make run` still works.
type config struct {
	root        string // repository root
	runDir      string // logs, simulator state (.run)
	kafkaDir    string // broker data (.cache/kafka/dev)
	binDir      string // service binaries, built there at start
	noBuild     bool   // use binDir as it is
	portBase    int    // 0: the fixed ports below; else every port from here on
	kafkaPort   int
	kafkaCPort  int
	interval    time.Duration
	devices     int
	rate        int
	stopBudget  time.Duration // per service while the broker is up
	fastBudget  time.Duration // per service when the broker is gone
	logFormat   string
	logLevel    string
	startBudget time.Duration
}

func parseConfig(args []string) (config, error) {
	wd, _ := os.Getwd()
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&c.root, "root", env("SNOTIBRIDGE_ROOT", wd), "repository root")
	fs.StringVar(&c.runDir, "run-dir", "", "logs and simulator state (default ROOT/.run)")
	fs.StringVar(&c.kafkaDir, "kafka-dir", "", "broker data directory (default $SNOTIBRIDGE_CACHE/kafka/dev, else ROOT/.cache/kafka/dev)")
	fs.StringVar(&c.binDir, "bin", "", "where the services are built (default ROOT/bin)")
	fs.BoolVar(&c.noBuild, "no-build", false, "use the binaries in -bin as they are (tests build them once)")
	fs.IntVar(&c.portBase, "port-base", 0, "use the 13 ports from here on instead of the fixed ones (tests)")
	fs.IntVar(&c.kafkaPort, "kafka-port", envInt("KAFKA_PORT", 9092), "broker port (KAFKA_PORT)")
	fs.IntVar(&c.kafkaCPort, "kafka-cport", envInt("KAFKA_CPORT", 9093), "controller port (KAFKA_CPORT)")
	fs.DurationVar(&c.interval, "interval", time.Duration(envInt("RUN_PROGRESS_INTERVAL", 5))*time.Second, "progress interval (RUN_PROGRESS_INTERVAL, seconds)")
	fs.IntVar(&c.devices, "devices", envInt("SIM_DEVICES", 200), "simulated devices (SIM_DEVICES)")
	fs.IntVar(&c.rate, "rate", envInt("SIM_RATE", 500), "simulated events/s (SIM_RATE)")
	fs.DurationVar(&c.stopBudget, "stop-budget", 30*time.Second, "how long a service may take to stop while Kafka is up")
	fs.DurationVar(&c.fastBudget, "fast-stop-budget", 2*time.Second, "how long a service may take to stop once Kafka is gone")
	fs.DurationVar(&c.startBudget, "start-budget", 3*time.Minute, "how long Kafka and the simulators may take to come up")
	fs.StringVar(&c.logFormat, "log-format", env("LOG_FORMAT", "json"), "services' LOG_FORMAT")
	fs.StringVar(&c.logLevel, "log-level", env("LOG_LEVEL", "info"), "services' LOG_LEVEL")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	root, err := filepath.Abs(c.root)
	if err != nil {
		return c, err
	}
	c.root = root
	if _, err := os.Stat(filepath.Join(root, "tools", "kafka", "kafka.sh")); err != nil {
		return c, fmt.Errorf("-root %s is not the snotibridge repository (no tools/kafka/kafka.sh): run it from the repository root or set SNOTIBRIDGE_ROOT", root)
	}
	if c.runDir == "" {
		c.runDir = filepath.Join(root, ".run")
	}
	if c.kafkaDir == "" {
		cache := env("SNOTIBRIDGE_CACHE", filepath.Join(root, ".cache"))
		c.kafkaDir = filepath.Join(cache, "kafka", "dev")
	}
	if c.binDir == "" {
		c.binDir = filepath.Join(root, "bin")
	}
	for _, p := range []*string{&c.runDir, &c.kafkaDir, &c.binDir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return c, err
		}
	}
	if c.interval <= 0 {
		return c, fmt.Errorf("RUN_PROGRESS_INTERVAL=%s: must be at least 1 (seconds)", c.interval)
	}
	if c.portBase != 0 {
		c.kafkaPort, c.kafkaCPort = c.portBase, c.portBase+1
	}
	return c, nil
}

// ports are the listen ports of the stack: make run's fixed ones, or with
// -port-base the 11 after the broker's two.
func (c config) ports() localstack.Ports {
	if b := c.portBase; b != 0 {
		return localstack.PortsFrom(b + 2)
	}
	return localstack.FixedPorts()
}
