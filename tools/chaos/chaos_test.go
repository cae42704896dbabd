package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/localstack"
)

// TestShortChaosRun is the CI profile of make chaos: a minute of faults on
// a small fleet, every kind of fault in it, then the drain and the
// comparison by identity. It must exit 0 (no loss, no early ACK, no file
// row in two files) and print the whole table.
func TestShortChaosRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-node cluster and the whole stack for minutes")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "chaos"), ".").CombinedOutput(); err != nil {
		t.Fatalf("building chaos: %v\n%s", err, out)
	}
	if out, err := localstack.BuildCommand(ctx, root, bin).CombinedOutput(); err != nil {
		t.Fatalf("building the services: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "chaos"), "-root", root, "-dir", dir, "-bin", bin, "-no-build")
	cmd.Env = append(os.Environ(), "CHAOS_DURATION=60s", "CHAOS_SEED=17", "CHAOS_DEVICES=20", "CHAOS_RATE=25",
		"CHAOS_FAULT_EVERY=3s", "CHAOS_FILE_INTERVAL=10s", "CHAOS_DRAIN_TIMEOUT=3m")
	// Its children die with it (Pdeathsig), even when the test times out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	output := out.String()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Errorf("chaos exited %d, want 0", ee.ExitCode())
		} else {
			t.Errorf("running chaos: %v", err)
		}
		for _, name := range localstack.Services {
			if b, err := os.ReadFile(filepath.Join(dir, "run", "logs", name+".log")); err == nil {
				t.Logf("%s log (last 3000 bytes):\n%s", name, tail(b, 3000))
			}
		}
	}
	t.Logf("chaos ran for %s:\n%s", took.Round(time.Second), output)

	table := func(measure string) string {
		m := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(measure) + ` +\| (.*) \|$`).FindStringSubmatch(output)
		if m == nil {
			t.Errorf("the table has no row %q", measure)
			return ""
		}
		return m[1]
	}
	for measure, want := range map[string]string{
		"ACKs before durability":        "0",
		"ACKed but not in Kafka (lost)": "0",
		"result":                        "PASS",
	} {
		if got := table(measure); got != want {
			t.Errorf("%s: %q, want %q", measure, got, want)
		}
	}
	for _, measure := range []string{"EnOS points (device, time, point)", "Energisme uplinks (device, time)", "SFTP rows (module, time, offset)"} {
		got := table(measure)
		if !strings.Contains(got, "missing 0,") || strings.HasPrefix(got, "expected 0,") {
			t.Errorf("%s: %q, want something expected and nothing missing", measure, got)
		}
	}
	if got := table("SFTP rows (module, time, offset)"); !strings.Contains(got, "duplicates 0,") {
		t.Errorf("SFTP rows: %q: a row in two files", got)
	}
	for _, measure := range []string{"pushed (events published)", "ACKed", "unique in Kafka (snoti.events.v1)", "max lag (records)", "time to drain", "SFTP files"} {
		table(measure)
	}
	// A minute of faults every 1.5 to 4.5 s: most kinds, and the kills
	// of the leader and of every consumer, must be in it.
	faults := table("faults by kind")
	total, _ := strconv.Atoi(strings.SplitN(faults, ":", 2)[0])
	if total < 10 {
		t.Errorf("faults by kind: %q, want at least 10", faults)
	}
	for _, kind := range []string{"kill -9 partition leader", "kill -9 ingest", "kill -9 decoder"} {
		if !strings.Contains(faults, kind+" ") {
			t.Errorf("faults by kind: %q, want %s in it", faults, kind)
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
