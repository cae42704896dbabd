package main

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

const (
	evCharger  = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"
	macProduct = "0a0b0c0d0e0f00112233445566778899"
	token      = "sim-token"

	enosAccessKey, enosSecretKey, enosOrgID = "ak", "sk", "org"
)

// env is one test's Kafka topics and in-process emulators.
type env struct {
	t         testing.TB
	kc        kafkaconf.Config
	events    string
	telemetry string
	dlq       string
	stack     *sinksim.Stack
	base      string // the emulators' HTTP base URL
	url       string // the Energisme push endpoint
	sftpRoot  string
	known     string
	codec     *records.Codec
}

func newEnv(t testing.TB, withSFTP bool) *env {
	t.Helper()
	kc := kafkatest.Config(t)
	e := &env{t: t, kc: kc, events: kafkatest.Topic(t, kc.Brokers, 3), telemetry: kafkatest.Topic(t, kc.Brokers, 3), dlq: kafkatest.Topic(t, kc.Brokers, 1)}
	e.codec, _ = records.NewCodec()
	sc := sinksim.StackConfig{
		EnOS:      sinksim.EnOSConfig{Credentials: map[string]string{enosAccessKey: enosSecretKey}, OrgID: enosOrgID},
		Energisme: sinksim.EnergismeConfig{Token: token},
	}
	if withSFTP {
		e.sftpRoot = t.TempDir()
		sc.SFTP = &sinksim.SFTPConfig{Root: e.sftpRoot, Passwords: map[string]string{"energisme": "energisme"}}
	}
	st, err := sinksim.NewStack(sc, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	e.stack = st
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	e.base, e.url = srv.URL, srv.URL+sinksim.DefaultEnergismePath
	if withSFTP {
		if err := st.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Stop(context.Background()) })
		e.known = filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(e.known, []byte(st.SFTP.KnownHostsLine(st.SFTP.Addr())), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) mappingFile() string {
	p := filepath.Join(e.t.TempDir(), "mapping.json")
	m := `{"products":{"` + evCharger + `":{"devicetype":"gizwits-ev-charger"},"` + macProduct + `":{"devicetype":"meter-by-mac","deviceid":"mac"}}}`
	if err := os.WriteFile(p, []byte(m), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// config is a forwarder configuration for this env; push and files as asked.
func (e *env) config(group string, push, files bool) Config {
	c := Config{
		Base:        service.Base{Kafka: e.kc, ShutdownTimeout: 30 * time.Second},
		TopicEvents: e.events, TopicTelemetry: e.telemetry, TopicDLQ: e.dlq,
		GroupID: group, FilesGroupID: group + "-files", BatchSize: 200,
	}
	c.HTTP.Addr = "127.0.0.1:0"
	if push {
		c.Push = energismefwdPush(e.url, e.mappingFile())
	}
	if files {
		c.Files.SFTPAddr = e.stack.SFTP.Addr()
		c.Files.SFTPUser, c.Files.SFTPPassword, c.Files.SFTPKnownHosts = "energisme", "energisme", e.known
		c.Files.Interval = 500 * time.Millisecond
		c.Files.Format, c.Files.TimeZone, c.Files.ModuleTemplate, c.Files.Prefix = "csv", "UTC", "<did>.<point>", "telemetry"
		c.Files.MaxMessages = 10_000
	}
	return c
}

// start runs the forwarder in-process; stop cancels it and waits.
func (e *env) start(cfg Config) (a *app, stop func()) {
	e.t.Helper()
	a, err := newApp(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(e.t)).Level(zerolog.WarnLevel))
	if err != nil {
		e.t.Fatal(err)
	}
	return a, testkit.RunInProcess(e.t, "forwarder", a.run)
}

func (e *env) write(topic string, msgs []kafka.Message) {
	e.t.Helper()
	w, err := e.kc.NewWriter(topic)
	if err != nil {
		e.t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// rawEvent is what the ingest writes for a device_status_raw push.
func (e *env) rawEvent(id, typ, productKey, did, mac string, at time.Time, raw []byte) kafka.Message {
	e.t.Helper()
	m, err := e.codec.Message("", []byte(did), &records.SnotiEvent{
		EventID: id, EventType: typ, ProductKey: productKey, DID: did, MAC: mac, CreatedAt: at, ReceivedAt: at.Add(40 * time.Millisecond),
		Protocol: "v2", DeliveryID: "1", Raw: raw, RawJSON: "{}",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// committed returns the group's committed offsets and the log end offsets
// summed over topic's partitions.
func (e *env) committed(group, topic string, partitions int) (committed, end int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, _ := e.kc.Client()
	parts := make([]int, partitions)
	reqs := make([]kafka.OffsetRequest, partitions)
	for i := range parts {
		parts[i], reqs[i] = i, kafka.LastOffsetOf(i)
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		e.t.Fatal(err)
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range of.Topics[topic] {
		committed += max(p.CommittedOffset, 0)
	}
	for _, p := range lo.Topics[topic] {
		end += p.LastOffset
	}
	return committed, end
}

func readDeadLetters(t *testing.T, e *env, n int) []records.DeadLetter {
	t.Helper()
	var out []records.DeadLetter
	for _, m := range kafkatest.ReadN(t, e.kc.Brokers, e.dlq, n, time.Minute) {
		var dl records.DeadLetter
		if err := e.codec.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		out = append(out, dl)
	}
	return out
}

// TestPushDeliversExactUplinks: raw events reach the emulator with the
// exact hex bytes, device id, devicetype and timestamp, in order per
// device; other events are not sent; unmapped products and 4xx answers are
// dead-lettered with their reason, status and body.
func TestPushDeliversExactUplinks(t *testing.T) {
	e := newEnv(t, false)
	base := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	type want struct{ deviceID, deviceType, timestamp string }
	expect := map[string]want{} // payload hex → what Energisme must get
	var in []kafka.Message
	for i := range 60 {
		did := fmt.Sprintf("dev%d", i%6)
		raw := []byte{0x00, 0x00, 0x00, 0x03, byte(i), 0xA5, 0x5A, byte(i % 6)}
		at := base.Add(time.Duration(i)*time.Second + time.Duration(i)*time.Millisecond + 123*time.Microsecond)
		in = append(in, e.rawEvent(fmt.Sprintf("raw-%d", i), "device_status_raw", evCharger, did, "MAC"+did, at, raw))
		expect[strings.ToUpper(hex.EncodeToString(raw))] = want{did, "gizwits-ev-charger", at.UTC().Format("2006-01-02T15:04:05.000Z")}
	}
	for i := range 5 {
		raw := []byte{0xFE, byte(i)}
		at := base.Add(time.Duration(i) * time.Minute)
		in = append(in, e.rawEvent(fmt.Sprintf("mac-%d", i), "device_status_raw", macProduct, "meter", "AABBCCDDEEFF", at, raw))
		expect[strings.ToUpper(hex.EncodeToString(raw))] = want{"AABBCCDDEEFF", "meter-by-mac", at.Format("2006-01-02T15:04:05.000Z")}
	}
	in = append(in,
		e.rawEvent("online-1", "device_online", evCharger, "dev1", "", base, nil),
		e.rawEvent("kv-1", "device_status_kv", evCharger, "dev2", "", base, nil),
		e.rawEvent("unmapped-1", "device_status_raw", "ffffffffffffffffffffffffffffffff", "dev9", "", base, []byte{1}),
		e.rawEvent("unmapped-2", "device_status_raw", "ffffffffffffffffffffffffffffffff", "dev9", "", base, []byte{2}),
	)
	e.write(e.events, in)

	group := e.events + "-energisme"
	_, stop := e.start(e.config(group, true, false))
	emu := e.stack.Energisme
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := emu.WaitUplinks(ctx, len(expect)); err != nil {
		t.Fatalf("waiting for %d uplinks: %v (got %d)", len(expect), err, len(emu.Uplinks()))
	}
	testkit.Eventually(t, time.Minute, "offsets committed to the end", func() bool { c, end := e.committed(group, e.events, 3); return c == end })

	lastSeq := map[string]string{}
	for _, u := range emu.Uplinks() {
		w, ok := expect[u.PayloadHex]
		if !ok {
			t.Errorf("unexpected uplink %+v", u)
			continue
		}
		if u.DeviceID != w.deviceID || u.DeviceType != w.deviceType || u.Timestamp != w.timestamp || u.Source != "generic-sensors" {
			t.Errorf("uplink %s: deviceid %q devicetype %q timestamp %q source %q, want %+v", u.PayloadHex, u.DeviceID, u.DeviceType, u.Timestamp, u.Source, w)
		}
		// Events of one device were produced in timestamp order.
		if prev, ok := lastSeq[u.DeviceID]; ok && u.Timestamp <= prev {
			t.Errorf("device %s: %s arrived after %s", u.DeviceID, u.Timestamp, prev)
		}
		lastSeq[u.DeviceID] = u.Timestamp
		delete(expect, u.PayloadHex)
	}
	if len(expect) != 0 {
		t.Errorf("%d uplinks missing or duplicated: %v", len(expect), expect)
	}

	// A 4xx is the record's fault: dead-lettered with the status and body.
	if err := emu.Faults().Set(sinksim.FaultConfig{Status: 422, Next: 1}); err != nil {
		t.Fatal(err)
	}
	e.write(e.events, []kafka.Message{e.rawEvent("refused-1", "device_status_raw", evCharger, "dev1", "", base.Add(time.Hour), []byte{0xBB})})
	dls := readDeadLetters(t, e, 3)
	reasons := map[string]records.DeadLetter{}
	for _, dl := range dls {
		reasons[*dl.EventID] = dl
		if dl.Stage != "energisme" {
			t.Errorf("dead letter stage %q", dl.Stage)
		}
	}
	for _, id := range []string{"unmapped-1", "unmapped-2"} {
		if reasons[id].Reason != "no_mapping" {
			t.Errorf("%s: reason %q, want no_mapping", id, reasons[id].Reason)
		}
	}
	refused := reasons["refused-1"]
	if refused.Reason != "http_422" || !strings.Contains(refused.Error, "HTTP 422") {
		t.Errorf("refused-1: reason %q error %q, want http_422 with the status and body", refused.Reason, refused.Error)
	}
	var orig records.SnotiEvent
	if err := e.codec.Unmarshal(refused.Value, &orig); err != nil || orig.EventID != "refused-1" {
		t.Errorf("dead letter does not hold the original record: %v", err)
	}
	stop()
}

// TestPushSustained5xxThenRecovery: Energisme answers 503 for a while; the
// forwarder holds the batch and retries, and once it recovers everything
// arrives, nothing is dead-lettered.
func TestPushSustained5xxThenRecovery(t *testing.T) {
	e := newEnv(t, false)
	emu := e.stack.Energisme
	if err := emu.Faults().Set(sinksim.FaultConfig{Status: 503, For: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	base := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	var in []kafka.Message
	for i := range n {
		in = append(in, e.rawEvent(fmt.Sprintf("e%d", i), "device_status_raw", evCharger, fmt.Sprintf("dev%d", i%20), "", base.Add(time.Duration(i)*time.Millisecond), []byte{byte(i >> 8), byte(i)}))
	}
	e.write(e.events, in)
	group := e.events + "-energisme"
	start := time.Now()
	_, stop := e.start(e.config(group, true, false))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := emu.WaitFor(ctx, func(s *sinksim.Energisme) bool { return distinctPayloads(s) == n }); err != nil {
		t.Fatalf("after recovery: %d of %d distinct uplinks: %v", distinctPayloads(emu), n, err)
	}
	took := time.Since(start)
	testkit.Eventually(t, time.Minute, "offsets committed to the end", func() bool { c, end := e.committed(group, e.events, 3); return c == end && end == n })
	stop()
	stats := emu.Stats()
	if stats.Faults == 0 {
		t.Fatal("the emulator injected no 503: the outage was not exercised")
	}
	if c, end := e.committed(group+"-dlq-probe", e.dlq, 1); end != 0 {
		t.Fatalf("%d dead letters (committed %d), want none", end, c)
	}
	t.Logf("503 for 3s: %d requests answered 503, %d accepted (%d distinct), all delivered %s after start", stats.Faults, stats.Accepted, n, took.Round(time.Millisecond))
}

func distinctPayloads(s *sinksim.Energisme) int {
	seen := map[string]bool{}
	for _, u := range s.Uplinks() {
		seen[u.PayloadHex] = true
	}
	return len(seen)
}

// TestFilesSFTPOutage: the SFTP server goes away; files are delayed, the
// offsets of rows not on the server are not committed, and after it comes
// back every row is in exactly one file.
func TestFilesSFTPOutage(t *testing.T) {
	e := newEnv(t, true)
	base := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	wantRows := map[string]bool{} // "module,timestamp,value"
	batch := func(from, to int) []kafka.Message {
		var out []kafka.Message
		for i := from; i < to; i++ {
			did := fmt.Sprintf("dev%d", i%5)
			at := base.Add(time.Duration(i) * time.Second)
			tel := &records.DeviceTelemetry{
				EventID: fmt.Sprintf("t%d", i), ProductKey: evCharger, DID: did, Time: at, ReceivedAt: at,
				Source: "device_status_raw", Codec: "c", Kind: "status_report",
				Points: []records.DataPoint{{Name: "power", Value: float64(i) + 0.5}, {Name: "charging", Value: i%2 == 0}},
			}
			m, err := e.codec.Message("", []byte(did), tel)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
			ts := at.Format("2006-01-02 15:04:05")
			wantRows[fmt.Sprintf("%s.power,%s,%v", did, ts, float64(i)+0.5)] = true
			wantRows[fmt.Sprintf("%s.charging,%s,%v", did, ts, i%2 == 0)] = true
		}
		return out
	}
	group := e.telemetry + "-energisme"
	cfg := e.config(group, false, true)
	a, stop := e.start(cfg)

	e.write(e.telemetry, batch(0, 60))
	testkit.Eventually(t, time.Minute, "the first batch on the server and committed", func() bool {
		c, _ := e.committed(cfg.FilesGroupID, e.telemetry, 3)
		return c == 60 && len(rowsOnServer(t, e.sftpRoot)) == 120
	})

	// Outage: the next rows cannot be uploaded, so they are not committed.
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.stack.SFTP.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	outageStart := time.Now()
	e.write(e.telemetry, batch(60, 120))
	testkit.Eventually(t, time.Minute, "uploads failing during the outage", func() bool { return counter(t, a.metrics, "energisme_files_total", "error") >= 2 })
	if c, _ := e.committed(cfg.FilesGroupID, e.telemetry, 3); c != 60 {
		t.Fatalf("committed %d during the outage, want 60: offsets of rows not on the server were committed", c)
	}
	if err := e.stack.SFTP.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Minute, "every row on the server and committed after the outage", func() bool {
		c, _ := e.committed(cfg.FilesGroupID, e.telemetry, 3)
		return c == 120 && len(rowsOnServer(t, e.sftpRoot)) >= 240
	})
	delay := time.Since(outageStart)
	stop()

	counts := rowsOnServer(t, e.sftpRoot)
	for row, n := range counts {
		if n != 1 {
			t.Errorf("row %s appears %d times", row, n)
		}
		if !wantRows[row] {
			t.Errorf("unexpected row %s", row)
		}
	}
	for row := range wantRows {
		if counts[row] == 0 {
			t.Errorf("row %s lost", row)
		}
	}
	t.Logf("%d rows in %d files; outage to all rows committed: %s; %.0f failed uploads", len(counts), len(csvFiles(t, e.sftpRoot)), delay.Round(time.Millisecond), counter(t, a.metrics, "energisme_files_total", "error"))
}

func csvFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if !strings.HasPrefix(de.Name(), ".") && strings.HasSuffix(de.Name(), ".csv") {
			out = append(out, filepath.Join(root, de.Name()))
		}
	}
	return out
}

// rowsOnServer counts each "module,timestamp,value" line across the
// complete files (temporary names start with a dot).
func rowsOnServer(t *testing.T, root string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, f := range csvFiles(t, root) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(recs) == 0 || strings.Join(recs[0], ",") != "module,timestamp,value" {
			t.Fatalf("%s: no header: %q", f, b)
		}
		for _, r := range recs[1:] {
			counts[strings.Join(r, ",")]++
		}
	}
	return counts
}

func counter(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// TestPushUnaffectedByStuckEnOSGroup: an EnOS outage at the same time does
// not slow Energisme. A second consumer group on the same topic stands in
// for the EnOS forwarder facing a dead EnOS: its handler fails every
// message retryably, so it holds its batch and never commits. Energisme's
// delivery completes within the same bound as without that outage.
func TestPushUnaffectedByStuckEnOSGroup(t *testing.T) {
	const (
		n     = 400
		bound = 30 * time.Second
	)
	e := newEnv(t, false)
	base := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	var in []kafka.Message
	for i := range n {
		in = append(in, e.rawEvent(fmt.Sprintf("e%d", i), "device_status_raw", evCharger, fmt.Sprintf("dev%d", i%40), "", base.Add(time.Duration(i)*time.Millisecond), []byte{byte(i >> 8), byte(i)}))
	}
	e.write(e.events, in)

	deliver := func(group string) time.Duration {
		t.Helper()
		e.stack.Energisme.Reset()
		start := time.Now()
		_, stop := e.start(e.config(group, true, false))
		defer stop()
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		if err := e.stack.Energisme.WaitFor(ctx, func(s *sinksim.Energisme) bool { return distinctPayloads(s) == n }); err != nil {
			t.Fatalf("group %s: %d of %d uplinks within %s: %v", group, distinctPayloads(e.stack.Energisme), n, bound, err)
		}
		return time.Since(start)
	}

	baseline := deliver(e.events + "-energisme-baseline")

	// The EnOS stand-in: its own group, its sink down for good.
	var enosAttempts atomic.Int64
	enosGroup := e.events + "-enos"
	codec, _ := records.NewCodec()
	enos, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "enos", DLQTopic: e.dlq, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
		GroupID:         enosGroup, Topics: []string{e.events}, BatchSize: 100,
	}, e.kc, consume.PerKey(8, func(context.Context, kafka.Message) error {
		enosAttempts.Add(1)
		return sinkerr.NewRetryable(errors.New("EnOS: 503 Service Unavailable"), 0)
	}), codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ectx, ecancel := context.WithCancel(context.Background())
	edone := make(chan error, 1)
	go func() { edone <- enos.Run(ectx) }()
	defer func() {
		ecancel()
		if err := <-edone; err != nil {
			t.Errorf("EnOS stand-in: %v", err)
		}
	}()
	testkit.Eventually(t, time.Minute, "the EnOS stand-in to be stuck retrying", func() bool { return enosAttempts.Load() >= 20 })

	before := enosAttempts.Load()
	during := deliver(e.events + "-energisme-during-enos-outage")
	// Stuck before and still stuck after, having committed nothing: it
	// was failing all along while Energisme delivered.
	testkit.Eventually(t, time.Minute, "the EnOS stand-in still retrying", func() bool { return enosAttempts.Load() > before })
	attemptsDuring := enosAttempts.Load()
	if c, _ := e.committed(enosGroup, e.events, 3); c != 0 {
		t.Fatalf("the EnOS stand-in committed %d: it was not stuck", c)
	}
	t.Logf("%d uplinks: %s without the EnOS outage, %s during it (EnOS stand-in: %d failed attempts, nothing committed); bound %s",
		n, baseline.Round(time.Millisecond), during.Round(time.Millisecond), attemptsDuring, bound)
	if during > bound || baseline > bound {
		t.Fatalf("delivery took %s during the EnOS outage and %s without it; both must be within %s", during, baseline, bound)
	}
	// Tighter than the bound, loose enough for a busy 2-core runner: a
	// shared group or a shared retry loop would never finish at all.
	if slack := 5 * time.Second; during > baseline+slack {
		t.Fatalf("delivery took %s during the EnOS outage, more than %s over the %s without it", during, slack, baseline)
	}
}

// energismefwdPush is the push settings for the emulator.
func energismefwdPush(url, mapping string) (s energismefwd.PushSettings) {
	s.URL, s.Token, s.Source, s.MappingFile = url, token, energisme.DefaultSource, mapping
	s.Unmapped, s.Concurrency, s.RequestTimeout = "dlq", 8, 10*time.Second
	return s
}

// TestFilesShutdown: on shutdown an incomplete file (its window still
// open) is not uploaded, whether the server is reachable or not: its
// records stay uncommitted, so the file is written whole after the restart
// (see TestFilesFailedCommitThenRestart), and the forwarder stops in time.
func TestFilesShutdown(t *testing.T) {
	for _, tt := range []struct {
		name       string
		serverDown bool
	}{
		{name: "server reachable"},
		{name: "server down", serverDown: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true)
			at := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
			var in []kafka.Message
			for i := range 30 {
				m, err := e.codec.Message("", []byte("dev1"), &records.DeviceTelemetry{
					EventID: fmt.Sprint(i), ProductKey: evCharger, DID: "dev1", Time: at.Add(time.Duration(i) * time.Second), ReceivedAt: at,
					Points: []records.DataPoint{{Name: "energy", Value: int64(i)}},
				})
				if err != nil {
					t.Fatal(err)
				}
				in = append(in, m)
			}
			e.write(e.telemetry, in)
			cfg := e.config(e.telemetry+"-energisme", false, true)
			cfg.Files.Interval = time.Hour // the window stays open
			cfg.ShutdownTimeout = 6 * time.Second
			a, stop := e.start(cfg)
			testkit.Eventually(t, time.Minute, "every record in the open window", func() bool { return gauge(t, a.metrics, "energisme_file_window_messages") == 30 })
			if tt.serverDown {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := e.stack.SFTP.Stop(ctx); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			stop()
			if took := time.Since(start); took > cfg.ShutdownTimeout+2*time.Second {
				t.Errorf("shutdown took %s, budget %s", took, cfg.ShutdownTimeout)
			}
			if c, _ := e.committed(cfg.FilesGroupID, e.telemetry, 3); c != 0 {
				t.Fatalf("committed %d after shutdown, want 0", c)
			}
			if rows := rowsOnServer(t, e.sftpRoot); len(rows) != 0 {
				t.Fatalf("%d rows on the server, want 0: an incomplete file was uploaded", len(rows))
			}
		})
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
