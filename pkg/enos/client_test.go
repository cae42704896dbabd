package enos_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enos/enostest"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

const (
	accessKey = "ak-test"
	secretKey = "sk-test"
	orgID     = "o-test"
)

var (
	devA = enos.Device{ProductKey: "pkA", DeviceKey: "dev1"}
	devB = enos.Device{AssetID: "asset42"}
	devX = enos.Device{ProductKey: "pkA", DeviceKey: "unknown"}
)

// startEmulator runs the EnOS emulator on 127.0.0.1:0 and returns it with a
// client config pointing at it.
func startEmulator(t *testing.T, mod func(*sinksim.EnOSConfig)) (*sinksim.EnOS, enos.Config) {
	t.Helper()
	cfg := sinksim.EnOSConfig{
		Credentials: map[string]string{accessKey: secretKey},
		OrgID:       orgID,
	}
	if mod != nil {
		mod(&cfg)
	}
	emu, err := sinksim.NewEnOS(cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("NewEnOS: %v", err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, enos.Config{
		APIMURL: srv.URL, APIURL: srv.URL,
		AccessKey: accessKey, SecretKey: secretKey, OrgID: orgID,
		HTTPClient: srv.Client(),
	}
}

func TestContractAgainstEmulator(t *testing.T) {
	enostest.Run(t, func(t *testing.T) enostest.Target {
		emu, cfg := startEmulator(t, nil)
		return enostest.Target{
			Config:  cfg,
			Devices: []enos.Device{devA, devB},
			WaitPoints: func(ctx context.Context, n int) ([]enostest.ReceivedPoint, error) {
				if err := emu.WaitPoints(ctx, n); err != nil {
					return nil, err
				}
				var out []enostest.ReceivedPoint
				for _, p := range emu.Points() {
					out = append(out, enostest.ReceivedPoint{
						Device:  enos.Device{AssetID: p.AssetID, ProductKey: p.ProductKey, DeviceKey: p.DeviceKey},
						PointID: p.PointID, Value: p.Value, TimeMs: p.Time, Realtime: p.Realtime,
					})
				}
				return out, nil
			},
		}
	})
}

func entries(n int, dev func(i int) enos.Device) []enos.MeasurepointEntry {
	out := make([]enos.MeasurepointEntry, n)
	for i := range out {
		out[i] = enos.MeasurepointEntry{Device: dev(i), Time: time.UnixMilli(1700000000000 + int64(i)), Measurepoints: map[string]any{"p": float64(i)}}
	}
	return out
}

func always(d enos.Device) func(int) enos.Device { return func(int) enos.Device { return d } }

func TestEncryption(t *testing.T) {
	// echo -n "ak1700000000000sk" | sha256sum
	const want = "d5e44b9daf0f03dca03f7d26aa5a89fe6e1716b38fe57916b9d699c3fc14a3a0"
	if got := enos.Encryption("ak", 1700000000000, "sk"); got != want {
		t.Fatalf("Encryption = %q, want %q", got, want)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     enos.Config
		wantErr string
	}{
		{name: "empty", cfg: enos.Config{}, wantErr: `APIMURL=""`},
		{name: "bad url", cfg: enos.Config{APIMURL: "ftp://x", APIURL: "https://x", AccessKey: "a", SecretKey: "s", OrgID: "o"}, wantErr: `APIMURL="ftp://x"`},
		{name: "message too large", cfg: enos.Config{APIMURL: "https://x", APIURL: "https://x", AccessKey: "a", SecretKey: "s", OrgID: "o", MaxMessageBytes: 600 * 1024}, wantErr: "MaxMessageBytes=614400: must be 1024..524288"},
		{name: "ok", cfg: enos.Config{APIMURL: "https://x", APIURL: "https://y/", AccessKey: "a", SecretKey: "s", OrgID: "o"}},
		{name: "plain http to loopback", cfg: enos.Config{APIMURL: "http://127.0.0.1:8090", APIURL: "http://localhost:8090", AccessKey: "a", SecretKey: "s", OrgID: "o"}},
		{name: "plain http token service", cfg: enos.Config{APIMURL: "http://apim.example", APIURL: "https://y", AccessKey: "a", SecretKey: "s", OrgID: "o"},
			wantErr: `APIMURL="http://apim.example": http:// would send the EnOS credentials in clear: use https://, or set AllowInsecureHTTP=true`},
		{name: "plain http integration", cfg: enos.Config{APIMURL: "https://x", APIURL: "http://iot.example", AccessKey: "a", SecretKey: "s", OrgID: "o"},
			wantErr: `APIURL="http://iot.example": http:// would send the EnOS credentials in clear`},
		{name: "plain http allowed", cfg: enos.Config{APIMURL: "http://sink-sim:8090", APIURL: "http://sink-sim:8090", AccessKey: "a", SecretKey: "s", OrgID: "o", AllowInsecureHTTP: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := enos.New(tt.cfg, zerolog.Nop())
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New() err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTokenRefreshAhead(t *testing.T) {
	t.Run("token far from expiry is reused", func(t *testing.T) {
		emu, cfg := startEmulator(t, nil)
		c := enostest.NewClient(t, cfg)
		for i := range 3 {
			if res := c.PostMeasurepoints(enostest.Context(t), entries(1, always(devA))); !res.OK() {
				t.Fatalf("post %d: %v", i, res.Err())
			}
		}
		if s := emu.Stats(); s.TokenGets != 1 || s.TokenRefreshes != 0 {
			t.Fatalf("stats = %+v, want one get and no refresh", s)
		}
	})
	t.Run("token within the refresh window is refreshed", func(t *testing.T) {
		emu, cfg := startEmulator(t, func(c *sinksim.EnOSConfig) { c.TokenTTL = time.Hour })
		// A window as long as the lifetime makes every token due at once.
		cfg.RefreshAhead = time.Hour
		c := enostest.NewClient(t, cfg)
		ctx := enostest.Context(t)
		first, err := c.Tokens().Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res := c.PostMeasurepoints(ctx, entries(1, always(devA))); !res.OK() {
			t.Fatalf("post: %v", res.Err())
		}
		second, err := c.Tokens().Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if second == first {
			t.Fatalf("token was not renewed")
		}
		if s := emu.Stats(); s.TokenGets != 1 || s.TokenRefreshes != 2 || s.TokenRejected != 0 {
			t.Fatalf("stats = %+v, want one get, two refreshes, no rejection", s)
		}
	})
}

func TestTokenRejectedIsRenewedAndRetriedOnce(t *testing.T) {
	tests := []struct {
		name     string
		invalid  func(*sinksim.EnOS)
		wantCode int
	}{
		{name: "expired token, code 1203", invalid: (*sinksim.EnOS).ExpireTokens, wantCode: sinksim.CodeTokenExpired},
		{name: "unknown token, HTTP 401", invalid: (*sinksim.EnOS).RevokeTokens, wantCode: sinksim.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, cfg := startEmulator(t, nil)
			c := enostest.NewClient(t, cfg)
			ctx := enostest.Context(t)
			if res := c.PostMeasurepoints(ctx, entries(1, always(devA))); !res.OK() {
				t.Fatalf("first post: %v", res.Err())
			}
			tt.invalid(emu)
			if res := c.PostMeasurepoints(ctx, entries(2, always(devA))); !res.OK() {
				t.Fatalf("post after token loss: %v", res.Err())
			}
			reqs := emu.Requests()
			var codes []int
			for _, r := range reqs {
				codes = append(codes, r.Code)
			}
			if want := []int{0, tt.wantCode, 0}; !reflect.DeepEqual(codes, want) {
				t.Fatalf("request codes = %v, want %v", codes, want)
			}
			if s := emu.Stats(); s.TokenGets != 2 {
				t.Fatalf("token gets = %d, want 2", s.TokenGets)
			}
		})
	}
}

func TestTokenRejectedTwiceIsRetryable(t *testing.T) {
	// A server that issues tokens but rejects every one of them.
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+enos.TokenGetPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":0,"msg":"OK","data":{"accessToken":"t","expire":7200}}`))
	})
	var calls int
	mux.HandleFunc(enos.IntegrationPath, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := enostest.NewClient(t, enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "a", SecretKey: "s", OrgID: "o"})
	err := c.PostMeasurepoints(enostest.Context(t), entries(3, always(devA))).Err()
	if !errors.Is(err, enos.ErrUnauthorized) || sinkerr.Classify(err) != sinkerr.ClassRetryable {
		t.Fatalf("err = %v, want retryable ErrUnauthorized", err)
	}
	if calls != 2 {
		t.Fatalf("integration calls = %d, want 2 (one retry)", calls)
	}
}

// TestLargeBatchIsSplitUnderTheLimit: no part exceeds the default limit,
// which is below 512,000 bytes, the strict reading of EnOS's "512 KB".
func TestLargeBatchIsSplitUnderTheLimit(t *testing.T) {
	emu, cfg := startEmulator(t, nil)
	c := enostest.NewClient(t, cfg)
	filler := strings.Repeat("y", 10_000)
	in := make([]enos.MeasurepointEntry, 200) // ≈ 2 MB
	for i := range in {
		in[i] = enos.MeasurepointEntry{Device: devA, Time: time.UnixMilli(int64(i + 1)), Measurepoints: map[string]any{"blob": filler}}
	}
	if res := c.PostMeasurepoints(enostest.Context(t), in); !res.OK() {
		t.Fatalf("post: %v", res.Err())
	}
	reqs := emu.Requests()
	if len(reqs) < 4 {
		t.Fatalf("%d requests, want at least 4 for 2 MB", len(reqs))
	}
	total := 0
	for _, r := range reqs {
		if r.Code != 0 || r.MessageBytes > enos.DefaultMaxMessageBytes || r.MessageBytes > 512_000 {
			t.Fatalf("request %+v: want accepted and at most %d bytes", r, enos.DefaultMaxMessageBytes)
		}
		total += r.Entries
	}
	if total != len(in) || len(emu.Points()) != len(in) {
		t.Fatalf("entries sent %d, points stored %d, want %d", total, len(emu.Points()), len(in))
	}
}

func TestEntryTooLargeIsPermanentAndOthersSent(t *testing.T) {
	emu, cfg := startEmulator(t, nil)
	c := enostest.NewClient(t, cfg)
	in := entries(3, always(devA))
	in[1].Measurepoints = map[string]any{"blob": strings.Repeat("z", 600*1024)}
	res := c.PostMeasurepoints(enostest.Context(t), in)
	if !errors.Is(res.Errs[1], enos.ErrEntryTooLarge) || !sinkerr.IsPermanent(res.Errs[1]) {
		t.Fatalf("Errs[1] = %v, want permanent ErrEntryTooLarge", res.Errs[1])
	}
	if res.Errs[0] != nil || res.Errs[2] != nil || len(emu.Points()) != 2 {
		t.Fatalf("Errs = %v, points %d; want the other two accepted", res.Errs, len(emu.Points()))
	}
}

func TestInvalidEntryIsPermanentWithoutRequest(t *testing.T) {
	emu, cfg := startEmulator(t, nil)
	c := enostest.NewClient(t, cfg)
	in := entries(2, always(devA))
	in[0].Device = enos.Device{ProductKey: "only-product"}
	res := c.PostMeasurepoints(enostest.Context(t), in)
	if !sinkerr.IsPermanent(res.Errs[0]) || res.Errs[1] != nil {
		t.Fatalf("Errs = %v, want [permanent, nil]", res.Errs)
	}
	if n := len(emu.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestBisectionIsolatesBadEntries(t *testing.T) {
	emu, cfg := startEmulator(t, func(c *sinksim.EnOSConfig) {
		c.KnownDevices = []sinksim.EnOSDevice{{ProductKey: devA.ProductKey, DeviceKey: devA.DeviceKey}, {AssetID: devB.AssetID}}
	})
	c := enostest.NewClient(t, cfg)
	bad := map[int]bool{3: true, 11: true, 12: true}
	in := entries(16, func(i int) enos.Device {
		switch {
		case bad[i]:
			return devX
		case i%2 == 0:
			return devA
		default:
			return devB
		}
	})
	res := c.PostMeasurepoints(enostest.Context(t), in)
	if got, want := res.Rejected(), []int{3, 11, 12}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Rejected() = %v, want %v (errs %v)", got, want, res.Errs)
	}
	if u := res.Unsent(); len(u) != 0 {
		t.Fatalf("Unsent() = %v, want none", u)
	}
	for i := range bad {
		if !strings.Contains(res.Errs[i].Error(), "1100") {
			t.Fatalf("Errs[%d] = %v, want the EnOS code in the error", i, res.Errs[i])
		}
	}
	points := emu.Points()
	if len(points) != 13 {
		t.Fatalf("%d points stored, want 13", len(points))
	}
	for _, p := range points {
		if p.DeviceKey == devX.DeviceKey {
			t.Fatalf("bad entry stored: %+v", p)
		}
	}
}

func TestSinkFailuresAreRetryable(t *testing.T) {
	tests := []struct {
		name           string
		fault          sinksim.FaultConfig
		timeout        time.Duration
		wantRetryAfter time.Duration
	}{
		{name: "429 with Retry-After", fault: sinksim.FaultConfig{Status: 429, Next: 1, RetryAfter: 7 * time.Second}, wantRetryAfter: 7 * time.Second},
		{name: "503", fault: sinksim.FaultConfig{Status: 503, Next: 1}},
		{name: "500 by error rate", fault: sinksim.FaultConfig{ErrorRate: 1}},
		{name: "timeout", fault: sinksim.FaultConfig{Latency: 5 * time.Second}, timeout: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, cfg := startEmulator(t, nil)
			cfg.MaxMessageBytes = 1024 // several messages: the first failure must stop the rest
			if tt.timeout > 0 {
				cfg.RequestTimeout = tt.timeout
			}
			c := enostest.NewClient(t, cfg)
			if err := emu.Faults().Set(tt.fault); err != nil {
				t.Fatal(err)
			}
			in := entries(40, always(devA))
			res := c.PostMeasurepoints(enostest.Context(t), in)
			if u := res.Unsent(); len(u) != len(in) {
				t.Fatalf("Unsent() has %d entries, want all %d (errs %v)", len(u), len(in), res.Errs)
			}
			ra, ok := sinkerr.Retryable(res.Err())
			if !ok || ra != tt.wantRetryAfter {
				t.Fatalf("Retryable(%v) = %v, %v; want %v, true", res.Err(), ra, ok, tt.wantRetryAfter)
			}
			if len(res.Rejected()) != 0 || len(emu.Points()) != 0 {
				t.Fatalf("rejected %v, points %d: want none", res.Rejected(), len(emu.Points()))
			}
			if n := emu.Faults().Injected(); tt.timeout == 0 && n != 1 {
				t.Fatalf("%d requests failed, want 1: sending stops at the first retryable failure", n)
			}
			emu.Faults().Clear()
			// A fresh client: a 50 ms timeout is no test of recovery on a
			// loaded machine.
			cfg.RequestTimeout = 0
			if res := enostest.NewClient(t, cfg).PostMeasurepoints(enostest.Context(t), in); !res.OK() {
				t.Fatalf("post after recovery: %v", res.Err())
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := enostest.NewClient(t, enos.Config{APIMURL: url, APIURL: url, AccessKey: "a", SecretKey: "s", OrgID: "o"})
	err := c.PostMeasurepoints(enostest.Context(t), entries(1, always(devA))).Err()
	if _, ok := sinkerr.Retryable(err); !ok {
		t.Fatalf("err = %v, want retryable", err)
	}
}

func TestResponseCodes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantClass sinkerr.Class
	}{
		{name: "code 0", status: 200, body: `{"code":0,"msg":"OK"}`, wantClass: sinkerr.ClassSuccess},
		{name: "code 1005 internal error", status: 200, body: `{"code":1005,"msg":"internal"}`, wantClass: sinkerr.ClassRetryable},
		{name: "other code", status: 200, body: `{"code":1100,"msg":"device not found"}`, wantClass: sinkerr.ClassPermanent},
		{name: "HTTP 400", status: 400, body: `{"code":1004}`, wantClass: sinkerr.ClassPermanent},
		{name: "HTTP 408", status: 408, body: ``, wantClass: sinkerr.ClassRetryable},
		{name: "HTTP 502 html", status: 502, body: `<html>bad gateway</html>`, wantClass: sinkerr.ClassRetryable},
		{name: "200 not JSON", status: 200, body: `<html>`, wantClass: sinkerr.ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("POST "+enos.TokenGetPath, func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"status":0,"msg":"OK","data":{"accessToken":"t","expire":7200}}`))
			})
			mux.HandleFunc(enos.IntegrationPath, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			c := enostest.NewClient(t, enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "a", SecretKey: "s", OrgID: "o"})
			// One entry: a permanent answer cannot be bisected further.
			err := c.PostMeasurepoints(enostest.Context(t), entries(1, always(devA))).Err()
			if got := sinkerr.Classify(err); got != tt.wantClass {
				t.Fatalf("class = %v (%v), want %v", got, err, tt.wantClass)
			}
		})
	}
}

func TestCancelledContextIsNotClassified(t *testing.T) {
	_, cfg := startEmulator(t, nil)
	c := enostest.NewClient(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := c.PostMeasurepoints(ctx, entries(2, always(devA))).Err()
	if !errors.Is(err, context.Canceled) || sinkerr.Classify(err) != sinkerr.ClassUnknown {
		t.Fatalf("err = %v, want unclassified context.Canceled", err)
	}
}

func TestConcurrentPostsShareOneToken(t *testing.T) {
	emu, cfg := startEmulator(t, nil)
	c := enostest.NewClient(t, cfg)
	ctx := enostest.Context(t)
	const n = 8
	results := make([]enos.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i] = c.PostMeasurepoints(ctx, entries(3, always(devA)))
		})
	}
	wg.Wait()
	for i, res := range results {
		if !res.OK() {
			t.Fatalf("post %d: %v", i, res.Err())
		}
	}
	if s := emu.Stats(); s.TokenGets != 1 || s.Accepted != n {
		t.Fatalf("stats = %+v, want one token get and %d accepted requests", s, n)
	}
}

func TestTokenRequestRepeatedTimestampIsRetriedOnce(t *testing.T) {
	var calls []int64
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+enos.TokenGetPath, func(w http.ResponseWriter, r *http.Request) {
		var req enos.TokenRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		calls = append(calls, req.Timestamp)
		first := len(calls) == 1
		mu.Unlock()
		if req.Encryption != enos.Encryption("a", req.Timestamp, "s") {
			_, _ = w.Write([]byte(`{"status":1003,"msg":"invalid encryption"}`))
			return
		}
		if first {
			_, _ = w.Write([]byte(`{"status":1001,"msg":"repeated request"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":0,"msg":"OK","data":{"accessToken":"t","expire":7200}}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := enostest.NewClient(t, enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: "a", SecretKey: "s", OrgID: "o"})
	tok, err := c.Tokens().Token(enostest.Context(t))
	if err != nil || tok != "t" {
		t.Fatalf("Token() = %q, %v", tok, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[1] <= calls[0] {
		t.Fatalf("token request timestamps %v, want two, strictly increasing", calls)
	}
}

// TestRedirectNeverCarriesTheToken points the token service or the
// integration endpoint at a redirect to another host, and checks that
// nothing reaches that host (neither the apim-accesstoken header, which Go
// forwards on a cross-host redirect, nor the signed token request), with
// the default client and with one the caller gives, and that the failure
// is retryable and names the redirect.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	var (
		mu      sync.Mutex
		trapped []string
	)
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		trapped = append(trapped, r.Method+" "+r.URL.Path+" apim-accesstoken="+r.Header.Get("apim-accesstoken"))
	}))
	t.Cleanup(trap.Close)
	// Another host name for the same machine: a cross-host redirect.
	elsewhere := strings.Replace(trap.URL, "127.0.0.1", "localhost", 1)

	for _, tt := range []struct{ name, redirected string }{
		{"integration endpoint", enos.IntegrationPath},
		{"token service", enos.TokenGetPath},
	} {
		for _, client := range []struct {
			name string
			c    *http.Client
		}{{"default client", nil}, {"caller's client", &http.Client{}}} {
			t.Run(tt.name+", "+client.name, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch r.URL.Path {
					case tt.redirected:
						http.Redirect(w, r, elsewhere+tt.redirected, http.StatusTemporaryRedirect)
					case enos.TokenGetPath:
						_, _ = w.Write([]byte(`{"status":0,"msg":"OK","data":{"accessToken":"the-token","expire":7200}}`))
					default:
						_, _ = w.Write([]byte(`{"code":0,"msg":"OK"}`))
					}
				}))
				t.Cleanup(srv.Close)
				c := enostest.NewClient(t, enos.Config{APIMURL: srv.URL, APIURL: srv.URL, AccessKey: accessKey, SecretKey: secretKey, OrgID: orgID, HTTPClient: client.c})
				err := c.PostMeasurepoints(enostest.Context(t), entries(1, always(devA))).Err()
				if !errors.Is(err, sinkhttp.ErrRedirect) || sinkerr.Classify(err) != sinkerr.ClassRetryable {
					t.Fatalf("err = %v, want a retryable ErrRedirect", err)
				}
				if !strings.Contains(err.Error(), elsewhere+tt.redirected) {
					t.Errorf("err = %v, want it to name the redirect target", err)
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

func TestInsecureHTTPIsWarned(t *testing.T) {
	var buf strings.Builder
	cfg := enos.Config{APIMURL: "http://sink-sim:8090", APIURL: "https://iot.example", AccessKey: "a", SecretKey: "do-not-log", OrgID: "o", AllowInsecureHTTP: true}
	if _, err := enos.New(cfg, zerolog.New(&buf)); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Count(out, `"level":"warn"`) != 1 || !strings.Contains(out, "ENOS_ALLOW_INSECURE_HTTP=true: ENOS_APIM_URL is plain HTTP") || strings.Contains(out, "do-not-log") {
		t.Fatalf("log %q: want one warning naming ENOS_APIM_URL, without the secret", out)
	}
}

// cannedEnOS answers the token request and accepts every integration
// request, without a network, reading the body as a server would.
type cannedEnOS struct{}

func (cannedEnOS) RoundTrip(req *http.Request) (*http.Response, error) {
	body := `{"code":0,"msg":"OK","requestId":"r"}`
	if strings.HasPrefix(req.URL.Path, "/apim-token-service/") {
		body = `{"status":0,"msg":"OK","data":{"accessToken":"tok","expire":7200}}`
	}
	_, _ = io.Copy(io.Discard, req.Body)
	_ = req.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: req}, nil
}

// TestPostAllocations bounds the client's own allocations per post of one
// entry (the transport's aside): the request URLs and envelope sizes
// computed at New, no logger built unless a post fails (76 allocations
// before; 62 after, of which mime/multipart's writer makes about 20, once
// per post: per batch, not per point, so it stays the library's).
func TestPostAllocations(t *testing.T) {
	// Under the race detector, which adds allocations of its own (71
	// there), a looser bound that still tells 62 from the 76 before.
	limit := 64.0
	if raceEnabled {
		limit = 74
	}
	c, err := enos.New(enos.Config{APIMURL: "https://apim.example", APIURL: "https://api.example", AccessKey: accessKey, SecretKey: secretKey, OrgID: orgID,
		HTTPClient: &http.Client{Transport: cannedEnOS{}}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	entries := []enos.MeasurepointEntry{{Device: enos.Device{AssetID: "a"}, Time: time.UnixMilli(1), Points: []enos.Point{{ID: "p", Value: 1.5}}}}
	ctx := context.Background()
	post := func() {
		if err := c.PostMeasurepoints(ctx, entries).Err(); err != nil {
			t.Fatal(err)
		}
	}
	post() // the token
	if n := testing.AllocsPerRun(100, post); n > limit {
		t.Fatalf("%.0f allocations per post, want at most %.0f", n, limit)
	}
}
