package snoti_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/snoti"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "products.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loaded is cfg as the ingest's environment would give it: zero fields
// get the defaults.
func loaded(cfg snoti.Config) snoti.Config {
	orDefault := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if cfg.Protocol == "" {
		cfg.Protocol = "v2"
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 50
	}
	if cfg.MaxLineBytes == 0 {
		cfg.MaxLineBytes = snoti.DefaultMaxLineBytes
	}
	orDefault(&cfg.Heartbeat, time.Minute)
	orDefault(&cfg.PongTimeout, 10*time.Second)
	orDefault(&cfg.LoginTimeout, 10*time.Second)
	orDefault(&cfg.WriteTimeout, 10*time.Second)
	orDefault(&cfg.BackoffMin, time.Second)
	orDefault(&cfg.BackoffMax, time.Minute)
	return cfg
}

func TestConfigValidate(t *testing.T) {
	good := writeFile(t, `[{"product_key":"pk","auth_id":"a","auth_secret":"s","subkey":"main","events":["device.online","device.status.raw"]}]`)
	tests := []struct {
		name    string
		cfg     snoti.Config
		wantErr []string // substrings, all reported at once
	}{
		{"v2 with a products file", loaded(snoti.Config{Addr: "h:2017", ProductsFile: good}), nil},
		{"v1", loaded(snoti.Config{Addr: "h:2015", Protocol: "v1", EnterpriseID: "e", EnterpriseSecret: "s"}), nil},
		{"everything wrong", snoti.Config{Addr: "nohost", Protocol: "v1", Prefetch: 40000, Heartbeat: 10 * time.Minute, BackoffMin: time.Second, BackoffMax: time.Millisecond, MaxLineBytes: 1000},
			[]string{"Addr=\"nohost\"", "EnterpriseID is empty: required with Protocol=v1", "EnterpriseSecret is empty", "Prefetch=40000: must be 1..32767", "Heartbeat=10m0s", "BackoffMax=1ms: must not be below BackoffMin=1s", "MaxLineBytes=1000", "PongTimeout=0s: must be a positive duration"}},
		{"negative prefetch", loaded(snoti.Config{Addr: "h:1", ProductsFile: good, Prefetch: -1}), []string{"Prefetch=-1: must be 1..32767"}},
		{"unknown protocol", loaded(snoti.Config{Addr: "h:1", Protocol: "v3"}), []string{`Protocol="v3": must be v1 or v2`}},
		{"v2 without products", loaded(snoti.Config{Addr: "h:1"}), []string{"ProductsFile is empty"}},
		{"missing products file", loaded(snoti.Config{Addr: "h:1", ProductsFile: "/nonexistent.json"}), []string{"ProductsFile=\"/nonexistent.json\": reading"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadProducts(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr []string
	}{
		{"valid", `[{"product_key":"pk","auth_id":"a","auth_secret":"s","subkey":"main_1","events":["device.status.kv"]}]`, nil},
		{"not a list", `{"product_key":"pk"}`, []string{"must be a JSON array"}},
		{"unknown field", `[{"product_key":"pk","auth_id":"a","auth_secret":"s","subkey":"m","events":["device.online"],"secret":"x"}]`, []string{`unknown field "secret"`}},
		{"every field wrong", `[{"product_key":"","auth_id":"","auth_secret":"","subkey":"a-b","events":["device.status"]}]`,
			[]string{"products[0].product_key is empty", "products[0].auth_id is empty", "products[0].auth_secret is empty", `products[0].subkey="a-b": must be 1-32 of [A-Za-z0-9_]`, `products[0].events[0]="device.status": unknown subscription, use one of`}},
		{"no events", `[{"product_key":"pk","auth_id":"a","auth_secret":"s","subkey":"m","events":[]}]`, []string{"products[0].events is empty"}},
		{"six subkeys", sixSubkeys(), []string{`product_key "pk" has 6 subkeys: SNoti allows at most 5`}},
		{"empty list", `[]`, []string{"products: empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := snoti.LoadProducts(writeFile(t, tt.content))
			if len(tt.wantErr) == 0 {
				if err != nil || len(ps) != 1 {
					t.Fatalf("got %v, %v", ps, err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewRejectsAnInvalidConfig(t *testing.T) {
	if _, err := snoti.New(snoti.Config{Addr: "x"}, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), `Addr="x"`) {
		t.Fatalf("New: %v, want the validation error", err)
	}
}

func sixSubkeys() string {
	var entries []string
	for i := range 6 {
		entries = append(entries, fmt.Sprintf(`{"product_key":"pk","auth_id":"a","auth_secret":"s","subkey":"s%d","events":["device.online"]}`, i))
	}
	return "[" + strings.Join(entries, ",") + "]"
}
