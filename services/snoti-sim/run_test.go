package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// loadConfig loads the configuration from the environment, as main does.
func loadConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var e environ
	if err := config.Load(&e); err != nil {
		t.Fatalf("loading configuration: %v", err)
	}
	return e.config()
}

func TestDefaultsAreValid(t *testing.T) {
	cfg := loadConfig(t, nil)
	if cfg.Addr != "127.0.0.1:2017" || cfg.ControlAddr != "127.0.0.1:8081" || cfg.Devices != 100 || cfg.Rate != 100 {
		t.Fatalf("defaults %+v: want loopback addresses", cfg)
	}
	sc, err := cfg.simConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Trace || sc.MsgIDShare != 0.5 || sc.IdleTimeout != 5*time.Minute || len(sc.Fleet.Mix) != 17 {
		t.Fatalf("simulator config %+v: want no sim_seq, msg_id on half the v2 pushes, the 5 minute idle rule, every event type", sc)
	}
}

func TestHelpPrintsUsageAndExits0(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var out, errw strings.Builder
		code, done := handleArgs([]string{arg}, &out, &errw)
		if !done || code != 0 || errw.Len() != 0 {
			t.Fatalf("%s: exit %d (done %v), stderr %q: want usage and exit 0", arg, code, done, errw.String())
		}
		for _, want := range []string{"Usage:", "SNOTI_SIM_ADDR", "127.0.0.1:2017", "SNOTI_SIM_CONTROL_ADDR", "SNOTI_SIM_EVENT_MIX", "SNOTI_SIM_ENTERPRISE_API_ADDR"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, out.String())
			}
		}
		if !regexp.MustCompile(`\n\s*HTTP_ADDR\s+127\.0\.0\.1:8080\s`).MatchString(out.String()) {
			t.Errorf("%s: usage does not give HTTP_ADDR's default 127.0.0.1:8080", arg)
		}
		if strings.Contains(out.String(), "KAFKA_") {
			t.Errorf("usage lists Kafka variables snoti-sim does not read")
		}
	}
	var out, errw strings.Builder
	if code, done := handleArgs([]string{"--port=1"}, &out, &errw); !done || code != 2 || !strings.Contains(errw.String(), "Usage:") {
		t.Fatalf("unknown argument: exit %d, want 2 with the usage on stderr", code)
	}
	if _, done := handleArgs(nil, &out, &errw); done {
		t.Fatal("no argument: must run")
	}
}

func TestEventMix(t *testing.T) {
	for _, tt := range []struct {
		value string
		types int
		bad   bool
	}{{"all", 17, false}, {"default", 5, false}, {"device_status_kv:3,device_bind:1", 2, false}, {"device_status_kv", 0, true}, {"nope:1", 0, true}} {
		t.Setenv("SNOTI_SIM_EVENT_MIX", tt.value)
		var e environ
		err := config.Load(&e)
		cfg := e.config()
		if tt.bad {
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "mix") {
				t.Errorf("%q: %v, want an error naming the mix", tt.value, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.value, err)
		}
		sc, _ := cfg.simConfig()
		if len(sc.Fleet.Mix) != tt.types {
			t.Errorf("%q: mix %v, want %d types", tt.value, sc.Fleet.Mix, tt.types)
		}
	}
}

func TestInvalidVariablesAreAllReported(t *testing.T) {
	t.Setenv("SNOTI_SIM_ADDR", "nope")
	t.Setenv("SNOTI_SIM_CERT_FILE", "/x.pem")
	t.Setenv("SNOTI_SIM_DELIVERY_IDS", "float")
	var e environ
	err := config.Load(&e)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"SNOTI_SIM_ADDR=\"nope\"", "SNOTI_SIM_CERT_FILE and SNOTI_SIM_KEY_FILE", `delivery ids "float"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestProductsFile(t *testing.T) {
	dir := t.TempDir()
	def, err := os.ReadFile("../../pkg/snotisim/fleetdata/ev-charger-standard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "charger.json"), def, 0o600); err != nil {
		t.Fatal(err)
	}
	products := filepath.Join(dir, "products.json")
	if err := os.WriteFile(products, []byte(`[{"product_key":"pk1","auth_id":"a","auth_secret":"s","subkeys":["main","audit"],"definition_file":"charger.json"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, map[string]string{"SNOTI_SIM_PRODUCTS_FILE": products})
	sc, err := cfg.simConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Products) != 1 || len(sc.Products[0].Definition) == 0 || len(sc.Products[0].Subkeys) != 2 {
		t.Fatalf("products %+v", sc.Products)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServiceEndToEnd runs the service as main does, points a client with
// a wrong secret at it (one error line per attempt, growing delays), then
// a correct client that gets the fleet's bounded stream, and reads the
// ledger over HTTP.
func TestServiceEndToEnd(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cfg := loadConfig(t, map[string]string{
		"SNOTI_SIM_ADDR": "127.0.0.1:0", "HTTP_ADDR": "127.0.0.1:0", "SNOTI_SIM_CONTROL_ADDR": "127.0.0.1:0", "SNOTI_SIM_CA_OUT": ca,
		"SNOTI_SIM_DEVICES": "20", "SNOTI_SIM_RATE": "0", "SNOTI_SIM_MAX_EVENTS": "500",
	})
	a, err := newApp(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	httpAddr, err := a.ops.Listen()
	if err != nil {
		t.Fatal(err)
	}
	controlAddr, err := a.listenControl()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, 10*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	product := snoti.Product{ProductKey: defaultProductKey, AuthID: "sim-auth-id", AuthSecret: "wrong", Subkey: "main", Events: snoti.Subscriptions()}
	clientCfg := snoti.Config{Addr: a.sim.Addr(), CAFile: ca, Products: []snoti.Product{product},
		BackoffMin: 10 * time.Millisecond, BackoffMax: time.Second}
	var logs lockedBuffer
	bad := runClient(t, clientCfg, zerolog.New(&logs), snoti.HandlerFuncs{})
	waitFor(t, "3 refused logins", func() bool { return bad.Stats().LoginFailures >= 3 })
	var last time.Duration
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for i := 0; sc.Scan() && i < 3; i++ {
		var line struct {
			Level, Message string
			RetryIn        float64 `json:"retry_in"`
		}
		_ = json.Unmarshal(sc.Bytes(), &line)
		d := time.Duration(line.RetryIn * float64(time.Millisecond))
		if line.Level != "error" || !strings.Contains(line.Message, "login refused") || (i > 0 && d < last/2) {
			t.Fatalf("log line %s: want one 'login refused' error per attempt with growing delays", sc.Text())
		}
		last = d
	}

	// client-products.json is what an ingest pointed at the default
	// simulator uses as SNOTI_PRODUCTS_FILE.
	clientCfg.Products, clientCfg.ProductsFile = nil, "client-products.json"
	runClient(t, clientCfg, zerolog.Nop(), snoti.HandlerFuncs{OnPush: func(p *snoti.Push) { p.Ack() }})
	var sum snotisim.Summary
	waitFor(t, "the 500 fleet events ACKed", func() bool {
		resp, err := http.Get("http://" + controlAddr.String() + "/sim/ledger")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Summary snotisim.Summary `json:"summary"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		sum = body.Summary
		return sum.Acks == 500
	})
	if sum.Events != 500 || sum.UnknownAcks != 0 || sum.LoginFailures < 3 {
		t.Fatalf("ledger %+v", sum)
	}
	// The metrics port serves no fault injection: /sim/ has its own port.
	for _, path := range []string{"/sim/ledger", "/sim/faults"} {
		resp, err := http.Get("http://" + httpAddr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s on HTTP_ADDR: %s, want 404", path, resp.Status)
		}
	}
	resp, err := http.Get("http://" + httpAddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
}

func runClient(t *testing.T, cfg snoti.Config, log zerolog.Logger, h snoti.Handler) *snoti.Client {
	t.Helper()
	c, err := snoti.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx, h) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
