package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

const (
	chainEnterprise = "ent-chain"
	chainSecret     = "chain-secret"
	evChargerPK     = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"
)

// chain is snoti-sim → ingest → decoder → enos-forwarder → EnOS emulator,
// with the three services as separately built programs on real Kafka.
type chain struct {
	brokers                            []string
	sim                                *snotisim.Server
	enos                               *sinksim.EnOS
	enosURL                            string
	events, invalid, telemetry         string
	decoderDLQ, enosDLQ                string
	caFile, codecsDir, mapping, suffix string
	logLevel                           string
	decoderBatch                       int      // DECODER_BATCH_SIZE; 0 keeps the decoder's default
	ingestEnv                          []string // more variables for the ingest
	codec                              *records.Codec
	pids                               map[string]int
	// keepAlive restarts a program that exits, as Kubernetes would, and
	// counts it in exits.
	keepAlive bool
	// withEnergisme adds the energisme-forwarder (its HTTP push) on the
	// same events topic, posting to energisme, an Energisme emulator.
	withEnergisme bool
	energisme     *sinksim.Energisme
	energismeURL  string
	energismeDLQ  string
	mu            sync.Mutex
	exits         map[string]int
	// fixedAddrs gives every program a fixed HTTP address (httpAddrs), so
	// that the benchmark can read its /metrics; profiling does too.
	fixedAddrs bool
	// httpAddrs is each program's HTTP address when it has a fixed one
	// (fixedAddrs, or profiling: see chain_bench_test.go's
	// CHAIN_CPUPROFILE_DIR).
	httpAddrs map[string]string
}

func newChain(t testing.TB, fleet snotisim.Fleet) *chain {
	t.Helper()
	brokers := kafkatest.Brokers(t)
	return newChainOn(t, brokers, func(partitions int) string { return kafkatest.Topic(t, brokers, partitions) }, fleet)
}

// chainPartitions is how many partitions the chain's events and
// telemetry topics have.
const chainPartitions = 3

// newChainOn builds a chain on brokers whose topics topic creates.
func newChainOn(t testing.TB, brokers []string, topic func(partitions int) string, fleet snotisim.Fleet) *chain {
	t.Helper()
	// Started by start, once the decoder and the forwarder are up.
	sim, ca := simtest.New(t, snotisim.Config{
		Addr:        "127.0.0.1:0",
		Enterprises: []snotisim.Enterprise{{ID: chainEnterprise, Secret: chainSecret}},
		Products:    []snotisim.Product{{ProductKey: evChargerPK, AuthID: "auth", AuthSecret: "auth-secret"}},
		Fleet:       fleet,
		Trace:       true, // sim_seq identifies each event end to end
	})
	enos, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{accessKey: secretKey}, OrgID: orgID, MaxStored: 2_000_000}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(enos)
	t.Cleanup(srv.Close)
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	c := &chain{
		brokers: brokers, sim: sim, enos: enos, enosURL: srv.URL,
		events: topic(chainPartitions), invalid: topic(1), telemetry: topic(chainPartitions), decoderDLQ: topic(1), enosDLQ: topic(1),
		caFile: ca, codecsDir: abs(filepath.Join("..", "decoder", "codecs")), mapping: abs("mapping.example.json"),
		suffix: fmt.Sprint(time.Now().UnixNano()), logLevel: "warn", codec: codec,
	}
	return c
}

// warmUpDID is the device of the record that start sends through the
// decoder and the forwarder before SNoti pushes anything.
const warmUpDID = "warm-up"

// start starts the decoder and the forwarder, waits until a record written
// to the events topic has gone through both (so their consumer groups have
// joined), then starts the simulator and the ingest. Everything stops with
// the test.
func (c *chain) start(t testing.TB) {
	t.Helper()
	common := []string{"KAFKA_BROKERS=" + strings.Join(c.brokers, ","), "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=" + c.logLevel, "SHUTDOWN_TIMEOUT=10s"}
	decoderEnv := append(common,
		"CODECS_DIR="+c.codecsDir, "TOPIC_EVENTS="+c.events, "TOPIC_TELEMETRY="+c.telemetry,
		"TOPIC_DLQ="+c.decoderDLQ, "GROUP_ID=decoder-"+c.suffix)
	if c.decoderBatch > 0 {
		decoderEnv = append(decoderEnv, fmt.Sprintf("DECODER_BATCH_SIZE=%d", c.decoderBatch))
	}
	c.startProgram(t, "decoder", decoderEnv)
	c.startProgram(t, "enos-forwarder", append(common,
		"ENOS_APIM_URL="+c.enosURL, "ENOS_API_URL="+c.enosURL, "ENOS_ACCESS_KEY="+accessKey, "ENOS_SECRET_KEY="+secretKey,
		"ENOS_ORG_ID="+orgID, "ENOS_MAPPING_FILE="+c.mapping, "TOPIC_TELEMETRY="+c.telemetry, "TOPIC_EVENTS="+c.events,
		"TOPIC_DLQ="+c.enosDLQ, "GROUP_ID=enos-"+c.suffix))
	if c.withEnergisme {
		c.startEnergisme(t, common)
	}
	c.warmUp(t)
	if err := c.sim.Start(); err != nil {
		t.Fatal(err)
	}
	c.startProgram(t, "ingest", append(append(common,
		"SNOTI_ADDR="+c.sim.Addr(), "SNOTI_PROTOCOL=v1", "SNOTI_ENTERPRISE_ID="+chainEnterprise,
		"SNOTI_ENTERPRISE_SECRET="+chainSecret, "SNOTI_CA_FILE="+c.caFile, "SNOTI_PREFETCH=500", "SNOTI_CONNECTIONS=2",
		"TOPIC_EVENTS="+c.events, "TOPIC_INVALID="+c.invalid), c.ingestEnv...))
}

// energismeToken is what the chain's Energisme emulator expects.
const energismeToken = "chain-energisme-token"

// startEnergisme starts an Energisme emulator and the energisme-forwarder
// (the HTTP push of device_status_raw events, with the example mapping).
func (c *chain) startEnergisme(t testing.TB, common []string) {
	t.Helper()
	e, err := sinksim.NewEnergisme(sinksim.EnergismeConfig{Token: energismeToken, MaxStored: 2_000_000}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	mapping, err := filepath.Abs(filepath.Join("..", "energisme-forwarder", "mapping.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	c.energisme, c.energismeURL = e, srv.URL
	// Sized as rate × round trip, which on loopback is well under a
	// millisecond: 8 in flight carry 5k events/s. The default, 64, is
	// for a WAN; here its pushes crowd the test process's scheduler, which
	// the EnOS emulator shares, and doubled the EnOS path's forwarder p50
	// (103-108 against 28-62 ms in 3 alternated runs at 5k/s).
	c.startProgram(t, "energisme-forwarder", append(common,
		"ENERGISME_URL="+srv.URL+sinksim.DefaultEnergismePath, "ENERGISME_TOKEN="+energismeToken, "ENERGISME_MAPPING_FILE="+mapping,
		"ENERGISME_CONCURRENCY=8", "ENERGISME_REQUEST_TIMEOUT=5s", "TOPIC_EVENTS="+c.events, "TOPIC_DLQ="+c.energismeDLQ, "GROUP_ID=energisme-"+c.suffix))
}

// uplinkKeys are the uplinks Energisme must receive for events: one per
// device_status_raw event, named by device id and timestamp (the example
// mapping's deviceid is the did).
func uplinkKeys(events map[uint64]chainEvent) map[string]bool {
	out := map[string]bool{}
	for _, ce := range events {
		if ce.ev.EventType == "device_status_raw" && len(ce.ev.Raw) > 0 {
			out[ce.ev.DID+"|"+ce.ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")] = true
		}
	}
	return out
}

// waitUplinks waits until every uplink of want (uplinkKeys) is at the
// Energisme emulator and returns how often each key arrived.
func (c *chain) waitUplinks(t testing.TB, want map[string]bool, timeout time.Duration) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	got := map[string]int{}
	if err := c.energisme.WaitFor(ctx, func(e *sinksim.Energisme) bool {
		clear(got)
		for _, u := range e.Uplinks() {
			got[u.DeviceID+"|"+u.Timestamp]++
		}
		for k := range want {
			if got[k] == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		missing := 0
		for k := range want {
			if got[k] == 0 {
				missing++
			}
		}
		t.Fatalf("%d of %d uplinks missing at Energisme: %v", missing, len(want), err)
	}
	return got
}

func (c *chain) warmUp(t testing.TB) {
	t.Helper()
	w, err := kafkaconf.Config{Brokers: c.brokers}.NewWriter(c.events)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	now := time.Now()
	m, err := c.codec.Message("", []byte(warmUpDID), &records.SnotiEvent{
		EventID: "warm-up-" + c.suffix, EventType: "device_status_kv", ProductKey: evChargerPK, DID: warmUpDID, MAC: warmUpDID,
		CreatedAt: now, ReceivedAt: now, Protocol: "v1", DeliveryID: "0", KV: map[string]any{"voltage": 230.0}, RawJSON: `{"sim_seq":0}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, m); err != nil {
		t.Fatalf("writing the warm-up event: %v", err)
	}
	if err := c.enos.WaitPoints(ctx, 1); err != nil {
		t.Fatalf("the warm-up event never reached EnOS through decoder and forwarder: %v", err)
	}
}

// program builds services/<name> once per test binary.
func program(t testing.TB, name string) string {
	t.Helper()
	return testkit.Build(t, filepath.Join("..", name))
}

func (c *chain) startProgram(t testing.TB, name string, env []string) {
	t.Helper()
	bin := program(t, name)
	if profiling := os.Getenv(chainProfileDir) != ""; profiling || c.fixedAddrs {
		// A fixed address, with the profiles served when profiling (the
		// last of a variable set twice wins).
		addr := freeAddr(t)
		env = append(env[:len(env):len(env)], "HTTP_ADDR="+addr)
		if profiling {
			env = append(env, "HTTP_PPROF=true")
		}
		c.mu.Lock()
		if c.httpAddrs == nil {
			c.httpAddrs = map[string]string{}
		}
		c.httpAddrs[name] = addr
		c.mu.Unlock()
	}
	launch := func() (*exec.Cmd, chan struct{}, error) {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = &prefixWriter{t: t, name: name}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		done := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(done) }()
		c.mu.Lock()
		if c.pids == nil {
			c.pids = map[string]int{}
		}
		c.pids[name] = cmd.Process.Pid
		c.mu.Unlock()
		return cmd, done, nil
	}
	cmd, done, err := launch()
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var current struct {
		sync.Mutex
		cmd  *exec.Cmd
		done chan struct{}
	}
	current.cmd, current.done = cmd, done
	if c.keepAlive {
		go func() {
			for {
				current.Lock()
				d := current.done
				current.Unlock()
				select {
				case <-stop:
					return
				case <-d:
				}
				c.mu.Lock()
				if c.exits == nil {
					c.exits = map[string]int{}
				}
				c.exits[name]++
				c.mu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				cmd, done, err := launch()
				if err != nil {
					t.Errorf("restarting %s: %v", name, err)
					return
				}
				current.Lock()
				current.cmd, current.done = cmd, done
				current.Unlock()
			}
		}()
	}
	t.Cleanup(func() {
		close(stop)
		current.Lock()
		cmd, done := current.cmd, current.done
		current.Unlock()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

// pid is the running process of a program.
func (c *chain) pid(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pids[name]
}

// cpuSeconds returns the CPU time (user + system) each running program has
// used so far, from /proc (Linux); 0 where it cannot be read.
func (c *chain) cpuSeconds() map[string]float64 {
	out := map[string]float64{}
	c.mu.Lock()
	pids := maps.Clone(c.pids)
	c.mu.Unlock()
	for name, pid := range pids {
		if _, sec, err := procCPU(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			out[name] = sec
		}
	}
	return out
}

// procCPU reads a /proc stat file (of a process or of one of its threads):
// its command name and its CPU time (user and system) in seconds.
func procCPU(path string) (name string, sec float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, err
	}
	// pid (comm) state …: utime is field 14, stime 15; comm may hold
	// spaces and parentheses, so it ends at the last ')'.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("%s: no command name in %q", path, s)
	}
	f := strings.Fields(s[end+1:])
	if len(f) <= 12 {
		return "", 0, fmt.Errorf("%s: %d fields", path, len(f))
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return s[open+1 : end], (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

type prefixWriter struct {
	t    testing.TB
	name string
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, b)
	return len(b), nil
}

// chainEvent is one SNoti event as the ingest stored it.
type chainEvent struct {
	seq uint64
	ev  records.SnotiEvent
	// written is the record's Kafka timestamp: when the ingest's writer
	// sent it (ms).
	written time.Time
}

// readEvents reads the events topic until every sim seq 1..n is there and
// returns one record per seq (redeliveries carry the same event id).
func (c *chain) readEvents(t testing.TB, n int, timeout time.Duration) map[uint64]chainEvent {
	t.Helper()
	r := kafkatest.NewReader(t, c.brokers, c.events)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out := make(map[uint64]chainEvent, n)
	for len(out) < n {
		m, err := r.FetchMessage(ctx) // no commit: ReadMessage commits each message synchronously
		if err != nil {
			t.Fatalf("reading %s: %d of %d events: %v", c.events, len(out), n, err)
		}
		var e records.SnotiEvent
		if err := c.codec.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		var v struct {
			Seq uint64 `json:"sim_seq"`
		}
		if err := json.Unmarshal([]byte(e.RawJSON), &v); err != nil {
			t.Fatalf("event without sim_seq: %.200s", e.RawJSON)
		}
		if e.DID == warmUpDID {
			continue
		}
		if _, seen := out[v.Seq]; !seen {
			out[v.Seq] = chainEvent{seq: v.Seq, ev: e, written: m.Time}
		}
	}
	return out
}

// expectation is what EnOS must receive for a set of SNoti events.
type expectation struct {
	points    map[point]any // JSON-normalised values
	ambiguous map[point]bool
	pointSeq  map[point]uint64 // the sim seq that produced each point
	events    int
	attrs     int
}

// expect decodes the events with the decoder's codecs and maps them with
// the example mapping, independently of the services under test.
func (c *chain) expect(t testing.TB, events map[uint64]chainEvent) expectation {
	t.Helper()
	reg, err := codecs.Open(c.codecsDir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	m, err := enosfwd.LoadMapping(c.mapping)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Lookup(evChargerPK)
	x := expectation{points: map[point]any{}, ambiguous: map[point]bool{}, pointSeq: map[point]uint64{}}
	for seq, ce := range events {
		e := ce.ev
		var res codecs.Result
		switch {
		case e.EventType == "device_status_raw" && e.Raw != nil:
			res, err = reg.Decode(e.ProductKey, e.Raw)
		case e.EventType == "device_status_kv" && e.KV != nil:
			res, err = reg.DecodeKV(e.ProductKey, e.KV)
		case e.EventType == "attr_fault" || e.EventType == "attr_alert":
			x.events++
			continue
		case e.EventType == "device_online" || e.EventType == "device_offline":
			x.attrs++
			continue
		default:
			continue
		}
		if err != nil {
			t.Fatalf("seq %d: decoding: %v", seq, err)
		}
		dps := make([]records.DataPoint, len(res.Fields))
		for i, f := range res.Fields {
			dps[i] = records.DataPoint{Name: f.Name, Value: f.Value.Any()}
		}
		for id, v := range p.Measurepoints(dps) {
			k := point{p.ProductKey + "/" + e.DID, id, e.CreatedAt.UnixMilli()}
			nv := normalise(t, v)
			if old, ok := x.points[k]; ok && old != nv {
				x.ambiguous[k] = true // two events of a device in one millisecond
			}
			x.points[k] = nv
			x.pointSeq[k] = seq
		}
	}
	return x
}

func normalise(t testing.TB, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestChainSNotiToEnOS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ingest, decoder and enos-forwarder")
	}
	const n = 3000
	c := newChain(t, snotisim.Fleet{Devices: 60, Rate: 1500, MaxEvents: n, Seed: 11})
	c.start(t)

	events := c.readEvents(t, n, 3*time.Minute)
	x := c.expect(t, events)
	if len(x.points) == 0 || x.events == 0 || x.attrs == 0 {
		t.Fatalf("the fleet produced %d points, %d fault/alert events, %d online/offline: too little to test", len(x.points), x.events, x.attrs)
	}
	waitPoints(t, c.enos, x.points, 3*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.enos.WaitFor(ctx, func(e *sinksim.EnOS) bool {
		s := e.Stats()
		return s.Events >= x.events && s.Attributes >= x.attrs
	}); err != nil {
		s := c.enos.Stats()
		t.Fatalf("events %d of %d, attributes %d of %d: %v", s.Events, x.events, s.Attributes, x.attrs, err)
	}

	got := map[point]bool{}
	for _, p := range c.enos.Points() {
		if p.DeviceKey == warmUpDID {
			continue
		}
		k := point{p.ProductKey + "/" + p.DeviceKey, p.PointID, p.Time}
		want, ok := x.points[k]
		switch {
		case !ok:
			t.Errorf("unexpected point %+v = %v", k, p.Value)
		case !x.ambiguous[k] && p.Value != want:
			t.Errorf("point %+v (sim seq %d) = %v, want %v", k, x.pointSeq[k], p.Value, want)
		}
		got[k] = true
	}
	if len(got) != len(x.points) {
		t.Errorf("%d distinct points at EnOS, want %d", len(got), len(x.points))
	}
	t.Logf("%d SNoti events → %d measurement points, %d events, %d attributes at EnOS (%d points in one ms of one device, value not compared)",
		n, len(x.points), x.events, x.attrs, len(x.ambiguous))
}
