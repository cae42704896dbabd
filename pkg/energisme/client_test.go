package energisme_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energisme/energismetest"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

const token = "dG9rZW4tZ2l2ZW4tYnktZW5lcmdpc21l"

func startEmulator(t *testing.T) (*sinksim.Energisme, energisme.Config) {
	t.Helper()
	emu, err := sinksim.NewEnergisme(sinksim.EnergismeConfig{Token: token}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, energisme.Config{URL: srv.URL + sinksim.DefaultEnergismePath, Token: token, HTTPClient: srv.Client()}
}

func TestContractAgainstEmulator(t *testing.T) {
	energismetest.Run(t, func(t *testing.T) energismetest.Target {
		emu, cfg := startEmulator(t)
		return energismetest.Target{
			Config:     cfg,
			DeviceType: "gizwits-p0",
			WaitUplinks: func(ctx context.Context, n int) ([]energismetest.ReceivedUplink, error) {
				if err := emu.WaitUplinks(ctx, n); err != nil {
					return nil, err
				}
				var out []energismetest.ReceivedUplink
				for _, u := range emu.Uplinks() {
					out = append(out, energismetest.ReceivedUplink{Timestamp: u.Timestamp, DeviceID: u.DeviceID, Payload: u.Payload, DeviceType: u.DeviceType, Source: u.Source})
				}
				return out, nil
			},
		}
	})
}

var sample = energisme.Uplink{
	Time:       time.Date(2019, 4, 28, 12, 59, 36, 599_000_000, time.UTC),
	DeviceID:   "123124",
	Payload:    []byte{0x23, 0x67, 0xA3, 0xB3, 0xC1, 0xDE, 0xFE},
	DeviceType: "dt-1",
}

func TestPushRequestIsExact(t *testing.T) {
	type captured struct {
		method, path string
		header       http.Header
		body         string
	}
	var (
		mu  sync.Mutex
		got []captured
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{r.Method, r.URL.Path, r.Header.Clone(), string(b)})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name       string
		source     string
		wantSource string
	}{
		{name: "default source", wantSource: "generic-sensors"},
		{name: "configured source", source: "snotibridge", wantSource: "snotibridge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			c := energismetest.NewClient(t, energisme.Config{URL: srv.URL + "/ingest", Token: token, Source: tt.source})
			if err := c.Push(energismetest.Context(t), sample); err != nil {
				t.Fatalf("Push: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			r := got[0]
			const wantBody = `{"timestamp":"2019-04-28T12:59:36.599Z","deviceid":"123124","payload":"2367A3B3C1DEFE","devicetype":"dt-1"}`
			if r.method != http.MethodPost || r.path != "/ingest" || r.body != wantBody {
				t.Fatalf("request %s %s %s, want POST /ingest %s", r.method, r.path, r.body, wantBody)
			}
			for name, want := range map[string]string{
				"source":        tt.wantSource,
				"Content-Type":  "application/json",
				"Authorization": "Basic " + token,
			} {
				if v := r.header.Values(name); len(v) != 1 || v[0] != want {
					t.Fatalf("header %s = %q, want %q", name, v, want)
				}
			}
		})
	}
}

func TestPushClassification(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		body           string
		wantClass      sinkerr.Class
		wantRetryAfter time.Duration
	}{
		{name: "200", status: 200, wantClass: sinkerr.ClassSuccess},
		{name: "201", status: 201, wantClass: sinkerr.ClassSuccess},
		{name: "400", status: 400, body: "bad payload", wantClass: sinkerr.ClassPermanent},
		{name: "404", status: 404, body: "no such devicetype", wantClass: sinkerr.ClassPermanent},
		{name: "422", status: 422, body: "nope", wantClass: sinkerr.ClassPermanent},
		{name: "401", status: 401, wantClass: sinkerr.ClassRetryable},
		{name: "408", status: 408, wantClass: sinkerr.ClassRetryable},
		{name: "429 with Retry-After", status: 429, retryAfter: "5", wantClass: sinkerr.ClassRetryable, wantRetryAfter: 5 * time.Second},
		{name: "500", status: 500, wantClass: sinkerr.ClassRetryable},
		{name: "503 with Retry-After", status: 503, retryAfter: "2", wantClass: sinkerr.ClassRetryable, wantRetryAfter: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			err := energismetest.NewClient(t, energisme.Config{URL: srv.URL, Token: token}).Push(energismetest.Context(t), sample)
			if got := sinkerr.Classify(err); got != tt.wantClass {
				t.Fatalf("class = %v (%v), want %v", got, err, tt.wantClass)
			}
			if ra, _ := sinkerr.Retryable(err); ra != tt.wantRetryAfter {
				t.Fatalf("retry after = %v, want %v", ra, tt.wantRetryAfter)
			}
			if tt.wantClass == sinkerr.ClassPermanent {
				var herr *energisme.HTTPError
				if !errors.As(err, &herr) || herr.StatusCode != tt.status || herr.Body != tt.body {
					t.Fatalf("err = %v, want *HTTPError with status %d and body %q", err, tt.status, tt.body)
				}
			}
		})
	}
}

func TestPushAgainstEmulatorFaults(t *testing.T) {
	emu, cfg := startEmulator(t)
	c := energismetest.NewClient(t, cfg)
	if err := emu.Faults().Set(sinksim.FaultConfig{Status: 429, Next: 2, RetryAfter: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		err := c.Push(energismetest.Context(t), sample)
		if ra, ok := sinkerr.Retryable(err); !ok || ra != 3*time.Second {
			t.Fatalf("Retryable(%v) = %v, %v; want 3s, true", err, ra, ok)
		}
	}
	if err := c.Push(energismetest.Context(t), sample); err != nil {
		t.Fatalf("Push after the window: %v", err)
	}
	if n := len(emu.Uplinks()); n != 1 {
		t.Fatalf("%d uplinks stored, want 1", n)
	}
}

func TestPushTimeoutAndNetworkErrorAreRetryable(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		emu, cfg := startEmulator(t)
		cfg.RequestTimeout = 50 * time.Millisecond
		if err := emu.Faults().Set(sinksim.FaultConfig{Latency: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		err := energismetest.NewClient(t, cfg).Push(energismetest.Context(t), sample)
		if _, ok := sinkerr.Retryable(err); !ok {
			t.Fatalf("err = %v, want retryable", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		err := energismetest.NewClient(t, energisme.Config{URL: url, Token: token}).Push(energismetest.Context(t), sample)
		if _, ok := sinkerr.Retryable(err); !ok {
			t.Fatalf("err = %v, want retryable", err)
		}
	})
	t.Run("cancelled context is not classified", func(t *testing.T) {
		_, cfg := startEmulator(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := energismetest.NewClient(t, cfg).Push(ctx, sample)
		if !errors.Is(err, context.Canceled) || sinkerr.Classify(err) != sinkerr.ClassUnknown {
			t.Fatalf("err = %v, want unclassified context.Canceled", err)
		}
	})
}

func TestInvalidUplinkIsPermanent(t *testing.T) {
	emu, cfg := startEmulator(t)
	c := energismetest.NewClient(t, cfg)
	tests := []struct {
		name string
		up   energisme.Uplink
	}{
		{name: "no device id", up: energisme.Uplink{Time: time.Now(), Payload: []byte{1}, DeviceType: "dt"}},
		{name: "no device type", up: energisme.Uplink{Time: time.Now(), DeviceID: "d", Payload: []byte{1}}},
		{name: "empty payload", up: energisme.Uplink{Time: time.Now(), DeviceID: "d", DeviceType: "dt"}},
		{name: "zero time", up: energisme.Uplink{DeviceID: "d", Payload: []byte{1}, DeviceType: "dt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Push(energismetest.Context(t), tt.up); !sinkerr.IsPermanent(err) {
				t.Fatalf("err = %v, want permanent", err)
			}
		})
	}
	if n := emu.Stats().Requests; n != 0 {
		t.Fatalf("%d requests reached the sink, want 0", n)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     energisme.Config
		wantErr string
	}{
		{name: "empty", cfg: energisme.Config{}, wantErr: `URL=""`},
		{name: "no token", cfg: energisme.Config{URL: "https://x/push"}, wantErr: "Token is empty"},
		{name: "ok", cfg: energisme.Config{URL: "https://x/push", Token: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := energisme.New(tt.cfg, zerolog.Nop())
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New() err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestRedirectNeverCarriesTheToken: a push answered with a redirect, to the
// same host or another, is not re-sent, so the Authorization token reaches
// no other path or host; the failure is retryable and names the redirect.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	var (
		mu      sync.Mutex
		trapped []string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusPermanentRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		trapped = append(trapped, r.Host+" Authorization="+r.Header.Get("Authorization"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tt := range []struct{ name, to string }{
		{"same host", srv.URL + "/elsewhere"},
		{"other host", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/elsewhere"},
	} {
		for _, client := range []struct {
			name string
			c    *http.Client
		}{{"default client", nil}, {"caller's client", srv.Client()}} {
			t.Run(tt.name+", "+client.name, func(t *testing.T) {
				c := energismetest.NewClient(t, energisme.Config{URL: srv.URL + "/push?to=" + tt.to, Token: token, HTTPClient: client.c})
				err := c.Push(energismetest.Context(t), sample)
				if !errors.Is(err, sinkhttp.ErrRedirect) || sinkerr.Classify(err) != sinkerr.ClassRetryable {
					t.Fatalf("err = %v, want a retryable ErrRedirect", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(trapped) > 0 {
					t.Fatalf("the redirect target received %q", trapped)
				}
			})
		}
	}
}

func TestNewRefusesPlainHTTP(t *testing.T) {
	tests := []struct {
		name    string
		cfg     energisme.Config
		wantErr string
	}{
		{name: "https", cfg: energisme.Config{URL: "https://api.energisme.example/push", Token: token}},
		{name: "loopback", cfg: energisme.Config{URL: "http://127.0.0.1:8090/push", Token: token}},
		{name: "plain http", cfg: energisme.Config{URL: "http://api.energisme.example/push", Token: token},
			wantErr: `URL="http://api.energisme.example/push": http:// would send the token in clear: use https://, or set AllowInsecureHTTP=true`},
		{name: "plain http allowed", cfg: energisme.Config{URL: "http://sink-sim:8090/push", Token: token, AllowInsecureHTTP: true}},
		{name: "not a URL", cfg: energisme.Config{URL: "ftp://x", Token: token}, wantErr: `URL="ftp://x": must be an absolute https:// URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := energisme.New(tt.cfg, zerolog.Nop())
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New() err = %v, want containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Error("the token is in the error")
			}
		})
	}
}

func TestInsecureHTTPIsWarned(t *testing.T) {
	var buf strings.Builder
	if _, err := energisme.New(energisme.Config{URL: "http://sink-sim:8090/push", Token: token, AllowInsecureHTTP: true}, zerolog.New(&buf)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"level":"warn"`) || !strings.Contains(buf.String(), "ENERGISME_ALLOW_INSECURE_HTTP=true") || strings.Contains(buf.String(), token) {
		t.Fatalf("log %q: want a warning naming ENERGISME_ALLOW_INSECURE_HTTP, without the token", buf.String())
	}
	buf.Reset()
	if _, err := energisme.New(energisme.Config{URL: "https://api.energisme.example/push", Token: token, AllowInsecureHTTP: true}, zerolog.New(&buf)); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("log %q for an https URL, want nothing", buf.String())
	}
}

// okTransport answers every request 200 without a network, reading the
// body as a server would.
type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	_ = req.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// TestPushAllocations bounds the client's own allocations per successful
// push (the transport's aside): the body appended into one buffer, the
// request copied from one built at New (no URL parsing), no logger built
// unless a push fails, the success's body discarded unread.
func TestPushAllocations(t *testing.T) {
	c := energismetest.NewClient(t, energisme.Config{URL: "https://energisme.example/push", Token: token, HTTPClient: &http.Client{Transport: okTransport{}}})
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() {
		if err := c.Push(ctx, sample); err != nil {
			t.Fatal(err)
		}
	}); n > 18 {
		t.Fatalf("%.0f allocations per push, want at most 18", n)
	}
}

// BenchmarkPush is the client's own cost per push, without a network.
func BenchmarkPush(b *testing.B) {
	c, err := energisme.New(energisme.Config{URL: "https://energisme.example/push", Token: token, HTTPClient: &http.Client{Transport: okTransport{}}}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Push(ctx, sample); err != nil {
			b.Fatal(err)
		}
	}
}

// The default client keeps a connection per push in flight (MaxInFlight,
// the forwarder's ENERGISME_CONCURRENCY), beyond http.Transport's pool
// of 64 idle ones: a second round of as many concurrent pushes reuses
// every connection of the first instead of opening (over TLS, handshaking)
// new ones. With the pool at 64, the second round opened 36 more.
func TestDefaultClientKeepsAConnectionPerPushInFlight(t *testing.T) {
	const inFlight = 100
	var (
		mu      sync.Mutex
		opened  int
		waiting int
		all     = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answer only once every push of the round is in flight, so the
		// round needs inFlight connections at once.
		mu.Lock()
		waiting++
		if waiting == inFlight {
			close(all)
		}
		round := all
		mu.Unlock()
		select {
		case <-round:
		case <-time.After(30 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := energismetest.NewClient(t, energisme.Config{URL: srv.URL + "/push", Token: token, MaxInFlight: inFlight})
	round := func() int {
		mu.Lock()
		waiting, all = 0, make(chan struct{})
		before := opened
		mu.Unlock()
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				if err := c.Push(context.Background(), sample); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return opened - before
	}
	if n := round(); n != inFlight {
		t.Fatalf("first round opened %d connections, want %d", n, inFlight)
	}
	if n := round(); n != 0 {
		t.Errorf("second round opened %d connections, want none: the first round's were closed instead of kept", n)
	}
}
