// Command chaos is `make chaos`: the whole pipeline — snoti-sim, the ingest
// (two SNoti connections), the decoder, both forwarders (the
// energisme-forwarder with its HTTP push and its SFTP files) and sink-sim —
// as real processes on a 3-node KRaft cluster (topics RF=3,
// min.insync.replicas=2), for CHAOS_DURATION, while faults are injected at
// random (seeded by CHAOS_SEED, printed): kill -9 and restart of each
// service and of the node leading a partition the ingest writes, SNoti
// connection drops and malformed lines, EnOS 503/429/slow answers and token
// expiry, Energisme 503/429, the SFTP server down. Then it clears every
// fault, waits until everything is drained and compares, by identity, what
// snoti-sim pushed with what Kafka holds and what reached each sink. It
// prints one table and exits 1 on any loss, any ACK before durability, or
// a file row in two files (the README promises none), 2 when it could not
// run.
//
// The simulators are not killed: they are the reference the run is measured
// against (their ledgers live in memory). Their outages are simulated
// through their /sim/ fault endpoints instead.
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
)

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	os.Exit(run(cfg, sigs))
}

type config struct {
	root       string
	dir        string // work directory: cluster data, logs, simulator state (wiped at start)
	binDir     string
	noBuild    bool
	duration   time.Duration // of fault injection
	seed       uint64
	devices    int
	rate       float64
	faultEvery time.Duration // mean interval between two faults
	drain      time.Duration // longest wait for the drain
	fileWindow time.Duration // ENERGISME_FILE_INTERVAL
}

func parseConfig(args []string) (config, error) {
	wd, _ := os.Getwd()
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
			return d
		}
		return def
	}
	num := func(name string, def float64) float64 {
		if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
			return v
		}
		return def
	}
	var c config
	var seed string
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.StringVar(&c.root, "root", env("SNOTIBRIDGE_ROOT", wd), "repository root")
	fs.StringVar(&c.dir, "dir", env("CHAOS_DIR", ""), "work directory, wiped at start (CHAOS_DIR; default ROOT/.chaos)")
	fs.StringVar(&c.binDir, "bin", "", "where the services are built (default ROOT/bin)")
	fs.BoolVar(&c.noBuild, "no-build", false, "use the binaries in -bin as they are")
	fs.DurationVar(&c.duration, "duration", dur("CHAOS_DURATION", 5*time.Minute), "how long faults are injected (CHAOS_DURATION)")
	fs.StringVar(&seed, "seed", env("CHAOS_SEED", ""), "seed of the faults and the fleet (CHAOS_SEED; default: from the clock)")
	devices := fs.Int("devices", int(num("CHAOS_DEVICES", 100)), "simulated devices (CHAOS_DEVICES)")
	fs.Float64Var(&c.rate, "rate", num("CHAOS_RATE", 50), "events/s (CHAOS_RATE)")
	fs.DurationVar(&c.faultEvery, "fault-every", dur("CHAOS_FAULT_EVERY", 5*time.Second), "mean interval between two faults (CHAOS_FAULT_EVERY)")
	fs.DurationVar(&c.drain, "drain-timeout", dur("CHAOS_DRAIN_TIMEOUT", 5*time.Minute), "longest wait for the drain after the faults (CHAOS_DRAIN_TIMEOUT)")
	fs.DurationVar(&c.fileWindow, "file-interval", dur("CHAOS_FILE_INTERVAL", time.Minute), "the SFTP files' window, ENERGISME_FILE_INTERVAL (CHAOS_FILE_INTERVAL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.devices = *devices
	if seed == "" {
		c.seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	} else {
		s, err := strconv.ParseUint(seed, 10, 64)
		if err != nil || s == 0 {
			return c, fmt.Errorf("CHAOS_SEED=%q: want a positive integer", seed)
		}
		c.seed = s
	}
	switch {
	case c.duration < 10*time.Second:
		return c, fmt.Errorf("CHAOS_DURATION=%s: at least 10s", c.duration)
	case c.devices < 1 || c.rate <= 0:
		return c, fmt.Errorf("CHAOS_DEVICES=%d, CHAOS_RATE=%g: both must be positive", c.devices, c.rate)
	case c.faultEvery <= 0 || c.drain <= 0 || c.fileWindow < time.Second:
		return c, fmt.Errorf("CHAOS_FAULT_EVERY and CHAOS_DRAIN_TIMEOUT must be positive, CHAOS_FILE_INTERVAL at least 1s")
	}
	root, err := filepath.Abs(c.root)
	if err != nil {
		return c, err
	}
	c.root = root
	if _, err := os.Stat(filepath.Join(root, "tools", "kafka", "kafka.sh")); err != nil {
		return c, fmt.Errorf("-root %s is not the snotibridge repository (no tools/kafka/kafka.sh): run it from the repository root or set SNOTIBRIDGE_ROOT", root)
	}
	if c.dir == "" {
		c.dir = filepath.Join(root, ".chaos")
	}
	if c.binDir == "" {
		c.binDir = filepath.Join(root, "bin")
	}
	for _, p := range []*string{&c.dir, &c.binDir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return c, err
		}
	}
	return c, nil
}

// events is how many events the fleet publishes: the rate over the
// injection, so the stream ends about when the faults do.
func (c config) events() uint64 { return uint64(c.rate * c.duration.Seconds()) }
