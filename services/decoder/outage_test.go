package main

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// program is one service run as a separate process by the test.
type program struct {
	name   string
	cmd    *exec.Cmd
	http   string // host:port of /healthz and /readyz
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

func startProgram(t *testing.T, name, dir string, env []string) *program {
	t.Helper()
	p := &program{name: name, http: freeAddr(t), exited: make(chan struct{})}
	p.cmd = testkit.Start(t, testkit.Build(t, dir), append(os.Environ(), append(env, "HTTP_ADDR="+p.http)...))
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	return p
}

func (p *program) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// probe returns the HTTP status of path, 0 when the server does not answer.
func (p *program) probe(path string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.http + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stop sends SIGTERM and returns how long the program took to exit.
func (p *program) stop(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Errorf("%s did not exit within a minute of SIGTERM", p.name)
	}
	if p.err != nil {
		t.Errorf("%s exited with %v", p.name, p.err)
	}
	return time.Since(start)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBrokerOutageDecoderAndForwarders runs the decoder and both forwarders
// (EnOS; Energisme push and SFTP files) as programs on a broker the test
// owns, kills the broker (kill -9) for 60 s mid-stream and brings it back.
// None of them exits; meanwhile /healthz stays 200 and /readyz turns 503;
// after the broker returns every event reaches every sink, and the programs
// still stop cleanly and fast, even with the broker gone.
func TestBrokerOutageDecoderAndForwarders(t *testing.T) {
	if testing.Short() {
		t.Skip("a 60 s broker outage")
	}
	const (
		outage  = 60 * time.Second
		devices = 20
		before  = 200 // events before the outage
		after   = 200 // events after it
	)
	broker := kafkatest.StartBroker(t)
	kc := kafkaconf.Config{Brokers: []string{broker.Addr()}}
	events := kafkatest.Topic(t, kc.Brokers, 3)
	telemetry := kafkatest.Topic(t, kc.Brokers, 3)
	decoderDLQ := kafkatest.Topic(t, kc.Brokers, 1)
	enosDLQ := kafkatest.Topic(t, kc.Brokers, 1)
	energismeDLQ := kafkatest.Topic(t, kc.Brokers, 1)

	sftpRoot := t.TempDir()
	stack, err := sinksim.NewStack(sinksim.StackConfig{
		EnOS:      sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"},
		Energisme: sinksim.EnergismeConfig{Token: "sim-token"},
		SFTP:      &sinksim.SFTPConfig{Root: sftpRoot, Passwords: map[string]string{"energisme": "energisme"}},
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stack)
	t.Cleanup(srv.Close)
	if err := stack.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop(context.Background()) })
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, []byte(stack.SFTP.KnownHostsLine(stack.SFTP.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	common := []string{"KAFKA_BROKERS=" + broker.Addr(), "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=30s"}
	progs := []*program{
		startProgram(t, "decoder", ".", append(common, "CODECS_DIR="+abs("codecs"), "TOPIC_EVENTS="+events,
			"TOPIC_TELEMETRY="+telemetry, "TOPIC_DLQ="+decoderDLQ, "GROUP_ID=decoder-"+events)),
		startProgram(t, "enos-forwarder", "../enos-forwarder", append(common, "ENOS_APIM_URL="+srv.URL, "ENOS_API_URL="+srv.URL,
			"ENOS_ACCESS_KEY=ak", "ENOS_SECRET_KEY=sk", "ENOS_ORG_ID=org", "ENOS_MAPPING_FILE="+abs("../enos-forwarder/mapping.example.json"),
			"TOPIC_TELEMETRY="+telemetry, "TOPIC_EVENTS="+events, "TOPIC_DLQ="+enosDLQ, "GROUP_ID=enos-"+events)),
		startProgram(t, "energisme-forwarder", "../energisme-forwarder", append(common,
			"ENERGISME_URL="+srv.URL+sinksim.DefaultEnergismePath, "ENERGISME_TOKEN=sim-token",
			"ENERGISME_MAPPING_FILE="+abs("../energisme-forwarder/mapping.example.json"),
			"ENERGISME_SFTP_ADDR="+stack.SFTP.Addr(), "ENERGISME_SFTP_USER=energisme", "ENERGISME_SFTP_PASSWORD=energisme",
			"ENERGISME_SFTP_KNOWN_HOSTS="+known, "ENERGISME_FILE_INTERVAL=1s",
			"TOPIC_EVENTS="+events, "TOPIC_TELEMETRY="+telemetry, "TOPIC_DLQ="+energismeDLQ,
			"GROUP_ID=energisme-"+events, "FILES_GROUP_ID=energisme-files-"+events)),
	}
	checkAlive := func(when string) {
		t.Helper()
		for _, p := range progs {
			if !p.alive() {
				t.Fatalf("%s exited %s: %v", p.name, when, p.err)
			}
		}
	}

	// Events: one device_status_raw frame each, device i%devices, one
	// second apart per device, so each is one (device, second) at every
	// sink: EnOS points, Energisme uplinks, SFTP rows.
	var fx frames
	b, err := os.ReadFile("testdata/ev-charger-standard.frames.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	frame, _ := base64.StdEncoding.DecodeString(fx.Frames[0].Base64)
	codec, _ := records.NewCodec()
	base := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	produce := func(from, to int) {
		t.Helper()
		var msgs []kafka.Message
		for i := from; i < to; i++ {
			did := fmt.Sprintf("out%02d", i%devices)
			at := base.Add(time.Duration(i/devices) * time.Second)
			m, err := codec.Message("", []byte(did), &records.SnotiEvent{
				EventID: fmt.Sprintf("ev-%d", i), EventType: "device_status_raw", ProductKey: evCharger, DID: did,
				CreatedAt: at, ReceivedAt: at, Protocol: "v2", DeliveryID: "1", Raw: frame, RawJSON: "{}",
			})
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
		}
		w, err := kc.NewWriter(events)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatalf("writing events: %v", err)
		}
	}
	type counts struct{ enos, uplinks, rows int }
	count := func() counts {
		var c counts
		seen := map[string]bool{}
		for _, p := range stack.EnOS.Points() {
			seen[fmt.Sprint(p.DeviceKey, p.Time)] = true
		}
		c.enos = len(seen)
		seen = map[string]bool{}
		for _, u := range stack.Energisme.Uplinks() {
			seen[u.DeviceID+u.Timestamp] = true
		}
		c.uplinks = len(seen)
		c.rows = len(sftpEvents(t, sftpRoot))
		return c
	}
	waitAll := func(n int, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		testkit.Eventually(t, within, fmt.Sprintf("%d events at every sink", n), func() bool {
			checkAlive("while draining")
			c := count()
			return c.enos == n && c.uplinks == n && c.rows == n
		})
		return time.Since(start)
	}
	waitReady := func(want int, within time.Duration) {
		t.Helper()
		for _, p := range progs {
			testkit.Eventually(t, within, fmt.Sprintf("%s /readyz %d", p.name, want), func() bool { return p.probe("/readyz") == want })
		}
	}

	produce(0, before)
	waitAll(before, 3*time.Minute)
	waitReady(http.StatusOK, time.Minute)

	broker.Kill()
	down := time.Now()
	unready := map[string]bool{}
	for time.Since(down) < outage {
		checkAlive("during the broker outage")
		for _, p := range progs {
			if code := p.probe("/healthz"); code != http.StatusOK {
				t.Errorf("%s /healthz = %d during the outage, want 200", p.name, code)
			}
			if !unready[p.name] && p.probe("/readyz") == http.StatusServiceUnavailable {
				unready[p.name] = true
				t.Logf("%s unready %s after the broker died", p.name, time.Since(down).Round(100*time.Millisecond))
			}
		}
		time.Sleep(time.Second) // pacing the probes of a fixed-length outage, not synchronising
	}
	for _, p := range progs {
		if !unready[p.name] {
			t.Errorf("%s /readyz never said 503 during a %s broker outage", p.name, outage)
		}
	}
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	produce(before, before+after)
	drain := waitAll(before+after, 3*time.Minute)
	waitReady(http.StatusOK, time.Minute)
	checkAlive("after the outage")
	t.Logf("broker back: %d more events at every sink %s after it restarted (%s after the last write)", after, time.Since(back).Round(100*time.Millisecond), drain.Round(100*time.Millisecond))

	// A stop with the broker gone does not wait the whole 30 s budget.
	broker.Kill()
	for _, p := range progs {
		testkit.Eventually(t, time.Minute, p.name+" unready without the broker", func() bool { return p.probe("/readyz") == http.StatusServiceUnavailable })
	}
	for _, p := range progs {
		took := p.stop(t)
		t.Logf("%s stopped in %s with the broker gone", p.name, took.Round(100*time.Millisecond))
		if took > 15*time.Second {
			t.Errorf("%s took %s to stop with the broker gone, want well under SHUTDOWN_TIMEOUT=30s", p.name, took)
		}
	}
}

// sftpEvents returns the (device, timestamp) pairs of the rows in the CSV
// files under root.
func sftpEvents(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if !strings.HasSuffix(de.Name(), ".csv") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			continue // renamed into place whole; a read racing the rename may see none
		}
		for _, r := range recs[1:] {
			did, _, _ := strings.Cut(r[0], ".")
			out[did+"@"+r[1]] = true
		}
	}
	return out
}
