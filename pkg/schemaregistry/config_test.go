package schemaregistry_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     schemaregistry.Config
		wantErr string
	}{
		{name: "off", cfg: schemaregistry.Config{Timeout: time.Second}},
		{name: "plain", cfg: schemaregistry.Config{URL: "http://registry:8081", Timeout: time.Second}},
		{name: "basic auth", cfg: schemaregistry.Config{URL: "https://r", Username: "u", Password: "p", Timeout: time.Second}},
		{name: "auth without URL", cfg: schemaregistry.Config{Username: "u", Timeout: time.Second}, wantErr: "SCHEMA_REGISTRY_USERNAME is set but SCHEMA_REGISTRY_URL is empty"},
		{name: "not a URL", cfg: schemaregistry.Config{URL: "registry:8081", Timeout: time.Second}, wantErr: `SCHEMA_REGISTRY_URL="registry:8081": must be an http:// or https:// URL`},
		{name: "user without password", cfg: schemaregistry.Config{URL: "http://r", Username: "u", Timeout: time.Second}, wantErr: "set both"},
		{name: "CA over http", cfg: schemaregistry.Config{URL: "http://r", CAFile: notPEM, Timeout: time.Second}, wantErr: "is not https"},
		{name: "CA not PEM", cfg: schemaregistry.Config{URL: "https://r", CAFile: notPEM, Timeout: time.Second}, wantErr: "no PEM certificate"},
		{name: "CA missing", cfg: schemaregistry.Config{URL: "https://r", CAFile: filepath.Join(dir, "none"), Timeout: time.Second}, wantErr: "SCHEMA_REGISTRY_CA_FILE="},
		{name: "zero timeout", cfg: schemaregistry.Config{URL: "http://r"}, wantErr: "SCHEMA_REGISTRY_TIMEOUT=0s"},
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
		})
	}
}

// TestConfigFromEnvironment: the password (and user name) may come from
// files, as mounted secrets are; the timeout has a default.
func TestConfigFromEnvironment(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCHEMA_REGISTRY_URL", "https://registry:8081")
	t.Setenv("SCHEMA_REGISTRY_USERNAME", "bridge")
	t.Setenv("SCHEMA_REGISTRY_PASSWORD_FILE", secret)
	var cfg struct{ SchemaRegistry schemaregistry.Config }
	if err := config.Load(&cfg); err != nil {
		t.Fatal(err)
	}
	got := cfg.SchemaRegistry
	if got.URL != "https://registry:8081" || got.Username != "bridge" || got.Password != "s3cret" || got.Timeout != 10*time.Second || !got.Enabled() {
		t.Errorf("loaded %+v", got)
	}
}
