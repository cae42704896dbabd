package registryenv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/config/registryenv"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestValidate: each problem of the settings names its variable and the
// fix; a password never goes to a plain-http registry off loopback unless
// allowed.
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	type sr = registryenv.SchemaRegistry
	tests := []struct {
		name    string
		cfg     sr
		wantErr string
	}{
		{name: "off", cfg: sr{Timeout: time.Second}},
		{name: "plain", cfg: sr{URL: "http://registry:8081", Timeout: time.Second}},
		{name: "basic auth", cfg: sr{URL: "https://r", Username: "u", Password: "p", Timeout: time.Second}},
		{name: "basic auth on loopback http", cfg: sr{URL: "http://127.0.0.1:8081", Username: "u", Password: "p", Timeout: time.Second}},
		{name: "basic auth over http", cfg: sr{URL: "http://registry:8081", Username: "u", Password: "p", Timeout: time.Second},
			wantErr: `SCHEMA_REGISTRY_URL="http://registry:8081": would send SCHEMA_REGISTRY_PASSWORD in clear: use https://, or set SCHEMA_REGISTRY_ALLOW_INSECURE_HTTP=true`},
		{name: "basic auth over http, allowed", cfg: sr{URL: "http://registry:8081", Username: "u", Password: "p", AllowInsecureHTTP: true, Timeout: time.Second}},
		{name: "auth without URL", cfg: sr{Username: "u", Timeout: time.Second}, wantErr: "SCHEMA_REGISTRY_USERNAME is set but SCHEMA_REGISTRY_URL is empty: set SCHEMA_REGISTRY_URL or unset SCHEMA_REGISTRY_USERNAME"},
		{name: "not a URL", cfg: sr{URL: "registry:8081", Timeout: time.Second}, wantErr: `SCHEMA_REGISTRY_URL="registry:8081": must be an http:// or https:// address`},
		{name: "user without password", cfg: sr{URL: "https://r", Username: "u", Timeout: time.Second}, wantErr: "SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: set both"},
		{name: "CA over http", cfg: sr{URL: "http://r", CAFile: notPEM, Timeout: time.Second}, wantErr: "is not https but SCHEMA_REGISTRY_CA_FILE is set"},
		{name: "CA not PEM", cfg: sr{URL: "https://r", CAFile: notPEM, Timeout: time.Second}, wantErr: "no PEM certificate"},
		{name: "CA missing", cfg: sr{URL: "https://r", CAFile: filepath.Join(dir, "none"), Timeout: time.Second}, wantErr: "SCHEMA_REGISTRY_CA_FILE="},
		{name: "zero timeout", cfg: sr{URL: "http://r"}, wantErr: "SCHEMA_REGISTRY_TIMEOUT=0s: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), `"p"`) {
				t.Fatalf("the password is in the error: %v", err)
			}
		})
	}
}

// TestFromEnvironment: the password (and user name) may come from files,
// as mounted secrets are; the timeout has a default.
func TestFromEnvironment(t *testing.T) {
	testkit.Unsetenv(t, "SCHEMA_REGISTRY_URL", "SCHEMA_REGISTRY_USERNAME", "SCHEMA_REGISTRY_PASSWORD", "SCHEMA_REGISTRY_CA_FILE", "SCHEMA_REGISTRY_ALLOW_INSECURE_HTTP", "SCHEMA_REGISTRY_TIMEOUT")
	secret := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCHEMA_REGISTRY_URL", "https://registry:8081")
	t.Setenv("SCHEMA_REGISTRY_USERNAME", "bridge")
	t.Setenv("SCHEMA_REGISTRY_PASSWORD_FILE", secret)
	var e struct{ SchemaRegistry registryenv.SchemaRegistry }
	if err := config.Load(&e); err != nil {
		t.Fatal(err)
	}
	got := e.SchemaRegistry.Config()
	if got.URL != "https://registry:8081" || got.Username != "bridge" || got.Password != "s3cret" || got.Timeout != 10*time.Second || !got.Enabled() {
		t.Errorf("loaded %+v", got)
	}
}
