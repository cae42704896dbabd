package main

import (
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestEnvConfig(t *testing.T) {
	vars := []string{"SNOTI_ADDR", "SNOTI_PROTOCOL", "SNOTI_ENTERPRISE_ID", "SNOTI_ENTERPRISE_SECRET", "SNOTI_PRODUCTS_FILE",
		"SNOTI_PREFETCH", "SNOTI_HEARTBEAT", "SNOTI_BACKOFF_MIN", "SNOTI_BACKOFF_MAX", "SNOTI_CONNECTIONS", "KAFKA_BROKERS",
		"COMMANDS_ENABLED", "COMMANDS_PATH", "GIZWITS_PRODUCT_SECRETS", "GIZWITS_ENTERPRISE_ID", "GIZWITS_ENTERPRISE_SECRET"}
	v1 := map[string]string{"SNOTI_ADDR": "snoti.example:2017", "SNOTI_PROTOCOL": "v1", "SNOTI_ENTERPRISE_ID": "e", "SNOTI_ENTERPRISE_SECRET": "s"}
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string
	}{
		{name: "v1 defaults", env: v1, check: func(t *testing.T, c Config) {
			if c.Addr != "snoti.example:2017" || c.Protocol != snoti.ProtocolV1 || c.Prefetch != 50 || c.Heartbeat != time.Minute ||
				c.MaxLineBytes != snoti.DefaultMaxLineBytes || c.Connections != 1 || c.TopicEvents != "snoti.events.v1" || c.Kafka.Addrs()[0] != "localhost:9092" {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "commands by the Enterprise API take the v1 login", env: merge(v1, map[string]string{"COMMANDS_ENABLED": "true", "GIZWITS_PRODUCT_SECRETS": "pk:ps"}),
			check: func(t *testing.T, c Config) {
				if c.Commands.EnterpriseID != "e" || c.Commands.EnterpriseSecret != "s" {
					t.Errorf("command sender credentials = %q/%q, want the SNoti v1 login", c.Commands.EnterpriseID, c.Commands.EnterpriseSecret)
				}
			}},
		{name: "every problem named by its variable", env: merge(v1, map[string]string{
			"SNOTI_ADDR": "nohost", "SNOTI_PREFETCH": "0", "SNOTI_BACKOFF_MIN": "2s", "SNOTI_BACKOFF_MAX": "1s", "SNOTI_CONNECTIONS": "0", "KAFKA_BROKERS": "nohost",
		}), wantErr: []string{
			`SNOTI_ADDR="nohost": must be host:port`, "SNOTI_PREFETCH=0: must be 1..32767", "SNOTI_BACKOFF_MAX=1s: must not be below SNOTI_BACKOFF_MIN=2s",
			"SNOTI_CONNECTIONS=0: must be 1..64", `KAFKA_BROKERS entry "nohost"`,
		}},
		{name: "v1 without credentials", env: merge(v1, map[string]string{"SNOTI_ENTERPRISE_SECRET": ""}),
			wantErr: []string{"SNOTI_ENTERPRISE_SECRET is empty: required with SNOTI_PROTOCOL=v1"}},
		{name: "v2 without products", env: map[string]string{"SNOTI_ADDR": "snoti.example:2017"},
			wantErr: []string{"SNOTI_PRODUCTS_FILE is empty: required with SNOTI_PROTOCOL=v2"}},
		{name: "missing products file", env: map[string]string{"SNOTI_ADDR": "snoti.example:2017", "SNOTI_PRODUCTS_FILE": "/nonexistent.json"},
			wantErr: []string{`SNOTI_PRODUCTS_FILE="/nonexistent.json": reading`}},
		{name: "commands over a v1 login", env: merge(v1, map[string]string{"COMMANDS_ENABLED": "true", "COMMANDS_PATH": "snoti"}),
			wantErr: []string{"COMMANDS_PATH=snoti needs SNOTI_PROTOCOL=v2"}},
		{name: "no address", env: map[string]string{"SNOTI_PROTOCOL": "v1"}, wantErr: []string{"SNOTI_ADDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, vars...)
			testkit.Setenv(t, tt.env)
			var e environ
			err := config.Load(&e)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, e.config())
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
