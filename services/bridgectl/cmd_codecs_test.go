package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/codecs"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
	"github.com/snotibridge/snotibridge/pkg/value"
)

const evChargerPK = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// enterpriseStyleDefinition is the EV charger definition in the spelling of
// the Enterprise API's datapoint call: type as W/R/N/E, plus its "ui" part.
func enterpriseStyleDefinition(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../pkg/gizwits/testdata/golden/ev-charger-standard.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	letters := map[string]string{"status_writable": "W", "status_readonly": "R", "alert": "N", "fault": "E"}
	for _, e := range doc["entities"].([]any) {
		for _, a := range e.(map[string]any)["attrs"].([]any) {
			attr := a.(map[string]any)
			attr["type"] = letters[attr["type"].(string)]
		}
	}
	doc["ui"] = map[string]any{"object": map[string]any{"version": 4, "showEditButton": false}, "sections": []any{}}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gizwitsEmulator serves the Enterprise API emulator over TLS and returns
// an app configured for it.
func gizwitsEmulator(t *testing.T, def []byte) (*app, *testkit.SyncBuffer, *testkit.SyncBuffer, string) {
	t.Helper()
	api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{EnterpriseID: "ent-1", EnterpriseSecret: "ent-secret",
		Products: map[string]snotisim.EnterpriseProduct{evChargerPK: {Secret: "prod-secret", Datapoint: def}}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errw := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	a := &app{out: out, errw: errw, log: zerolog.New(zerolog.NewTestWriter(t))}
	a.cfg.CodecsDir = filepath.Join(t.TempDir(), "codecs") // created by the command
	a.cfg.Gizwits = GizwitsAPI{URL: srv.URL, CAFile: ca, EnterpriseID: "ent-1", EnterpriseSecret: "ent-secret", ProductSecret: "prod-secret"}
	return a, out, errw, a.cfg.CodecsDir
}

func runCodecsFetch(t *testing.T, a *app, args ...string) int {
	t.Helper()
	cmd, rest, err := findCommand(append([]string{"codecs", "fetch"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return a.exec(context.Background(), cmd, rest)
}

// TestCodecsFetch: the fetched file loads in the decoder's registry and
// decodes the example status frame to the example's values.
func TestCodecsFetch(t *testing.T) {
	a, out, errw, dir := gizwitsEmulator(t, enterpriseStyleDefinition(t))
	if code := runCodecsFetch(t, a, "--product", evChargerPK); code != exitOK {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	if !strings.Contains(out.String(), "wrote "+filepath.Join(dir, evChargerPK+".json")) {
		t.Errorf("output %q", out.String())
	}
	reg, err := codecs.Open(dir, zerolog.Nop())
	if err != nil {
		t.Fatalf("the decoder's registry refuses the fetched file: %v", err)
	}
	var frames struct {
		Frames []struct {
			Hex      string         `json:"hex"`
			Expected map[string]any `json:"expected"`
		} `json:"frames"`
	}
	data, err := os.ReadFile("../../pkg/gizwits/testdata/golden/ev-charger-standard.frames.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &frames); err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(frames.Frames[0].Hex)
	res, err := reg.Decode(evChargerPK, raw)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	got := value.Map(res.Fields)
	for name, want := range frames.Frames[0].Expected {
		g, _ := json.Marshal(got[name])
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", name, g, w)
		}
	}

	// Fetching again changes nothing.
	if code := runCodecsFetch(t, a, "--product", evChargerPK); code != exitOK || !strings.Contains(out.String(), "unchanged") {
		t.Errorf("second fetch: exit %d, %q %q", code, out.String(), errw.String())
	}
}

func TestCodecsFetchErrors(t *testing.T) {
	tests := []struct {
		name     string
		def      []byte
		edit     func(a *app)
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "no product flag", args: nil, wantCode: exitUsage, wantErr: "--product is required"},
		{name: "no product secret", edit: func(a *app) { a.cfg.Gizwits.ProductSecret = "" }, wantCode: exitUsage, wantErr: "GIZWITS_PRODUCT_SECRET is not set"},
		{name: "wrong product secret", edit: func(a *app) { a.cfg.Gizwits.ProductSecret = "nope" }, wantCode: exitFailure, wantErr: "error_code 5005: product secret error"},
		{name: "unknown product", args: []string{"--product", "0000"}, wantCode: exitFailure, wantErr: "error_code 5015: Product key not exist!"},
		{name: "definition that does not load", def: []byte(`{"entities":[{"attrs":[{"id":0,"name":"x","type":"W","data_type":"float"}]}]}`),
			wantCode: exitFailure, wantErr: `data_type "float" unknown`},
		{name: "untrusted certificate", edit: func(a *app) { a.cfg.Gizwits.CAFile = "" }, wantCode: exitFailure, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := tt.def
			if def == nil {
				def = enterpriseStyleDefinition(t)
			}
			a, _, errw, dir := gizwitsEmulator(t, def)
			if tt.edit != nil {
				tt.edit(a)
			}
			args := tt.args
			if args == nil && tt.name != "no product flag" {
				args = []string{"--product", evChargerPK}
			}
			code := runCodecsFetch(t, a, args...)
			if code != tt.wantCode || !strings.Contains(errw.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errw.String(), tt.wantCode, tt.wantErr)
			}
			if files, _ := os.ReadDir(dir); len(files) != 0 { // the folder may have been created, but holds nothing
				t.Errorf("a failed fetch left %d files in the codec folder", len(files))
			}
		})
	}
}
