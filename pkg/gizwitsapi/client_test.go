package gizwitsapi_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

const pk = "4244bf2d79694a259232431b6f2ef46a"

type emulator struct {
	api    *snotisim.EnterpriseAPI
	srv    *httptest.Server
	tokens atomic.Int64 // token requests seen
}

func newEmulator(t *testing.T) *emulator {
	t.Helper()
	api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{
		EnterpriseID: "ent", EnterpriseSecret: "ent-secret",
		Products: map[string]snotisim.EnterpriseProduct{pk: {Secret: "ps", Datapoint: []byte(`{"entities":[]}`)}},
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	e := &emulator{api: api}
	mux := http.NewServeMux()
	api.Register(mux)
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/access_token") {
			e.tokens.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *emulator) client(t *testing.T, secret string) *gizwitsapi.Client {
	t.Helper()
	c, err := gizwitsapi.New(gizwitsapi.Config{
		URL: e.srv.URL, EnterpriseID: "ent", EnterpriseSecret: "ent-secret",
		ProductSecrets: map[string]string{pk: secret}, HTTPClient: e.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenCachedAndRenewedOnExpiry(t *testing.T) {
	e := newEmulator(t)
	c := e.client(t, "ps")
	ctx := context.Background()
	for range 3 {
		if _, err := c.Datapoint(ctx, pk); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.tokens.Load(); n != 1 {
		t.Fatalf("%d token requests for 3 calls, want 1 (cached)", n)
	}
	e.api.ExpireTokens() // the API now answers 5011 to the cached token
	if _, err := c.Datapoint(ctx, pk); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := e.tokens.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2 (one new token after 5011)", n)
	}
}

func TestRefusalsCarryTheCode(t *testing.T) {
	e := newEmulator(t)
	_, err := e.client(t, "wrong").Datapoint(context.Background(), pk)
	if gizwitsapi.CodeOf(err) != 5005 || !strings.Contains(err.Error(), "product secret error") {
		t.Fatalf("err = %v, want code 5005", err)
	}
	err = e.client(t, "ps").Control(context.Background(), pk, "d1", gizwitsapi.Control{})
	if err == nil || !strings.Contains(err.Error(), "exactly one of Attrs and Raw") {
		t.Fatalf("empty control: %v", err)
	}
}

func TestControlBodies(t *testing.T) {
	e := newEmulator(t)
	c := e.client(t, "ps")
	ctx := context.Background()
	if err := c.Control(ctx, pk, "d1", gizwitsapi.Control{Raw: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Control(ctx, pk, "d2", gizwitsapi.Control{Attrs: map[string]any{"switch": true}}); err != nil {
		t.Fatal(err)
	}
	got := e.api.Controls()
	if len(got) != 2 || string(got[0].Body) != `{"raw":[97,98,99]}` || got[0].DID != "d1" ||
		string(got[1].Body) != `{"attrs":{"switch":true}}` {
		t.Fatalf("controls = %+v", got)
	}
}

// TestNoRedirectCarriesTheToken: a redirect is not followed, so the token
// header never reaches the host it points to.
func TestNoRedirectCarriesTheToken(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
	}))
	defer other.Close()
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	c, err := gizwitsapi.New(gizwitsapi.Config{
		URL: redirect.URL, EnterpriseID: "ent", EnterpriseSecret: "s",
		ProductSecrets: map[string]string{pk: "ps"}, HTTPClient: redirect.Client(), RequestTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Datapoint(context.Background(), pk)
	if err == nil || !strings.Contains(err.Error(), "not followed") {
		t.Fatalf("err = %v, want a redirect not followed", err)
	}
	if leaked.Load() != 0 {
		t.Fatal("the redirect was followed: credentials reached another host")
	}
}

func TestCAFile(t *testing.T) {
	e := newEmulator(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := gizwitsapi.New(gizwitsapi.Config{URL: e.srv.URL, CAFile: ca, EnterpriseID: "ent", EnterpriseSecret: "ent-secret",
		ProductSecrets: map[string]string{pk: "ps"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Datapoint(context.Background(), pk); err != nil {
		t.Fatalf("trusting the emulator's certificate through CAFile: %v", err)
	}
	if _, err := gizwitsapi.New(gizwitsapi.Config{URL: e.srv.URL, CAFile: filepath.Join(t.TempDir(), "none.pem"), EnterpriseID: "e", EnterpriseSecret: "s"}); err == nil || !strings.Contains(err.Error(), "CAFile") {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := gizwitsapi.New(gizwitsapi.Config{URL: "ftp://x"})
	for _, want := range []string{"URL", "EnterpriseID", "EnterpriseSecret"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}
