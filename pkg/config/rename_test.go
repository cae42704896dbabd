package config_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

type snotiVars struct {
	Addr       string `envconfig:"SNOTI_ADDR"`
	BackoffMin string `envconfig:"SNOTI_BACKOFF_MIN"`
	BackoffMax string `envconfig:"SNOTI_BACKOFF_MAX"`
}

func TestRename(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: "<nil>"},
		{name: "not a field error", err: errors.New("Addr is plain text"), want: "Addr is plain text"},
		{
			name: "fields and the ones the reason names, in order; values untouched",
			err:  snoti.Config{Addr: "Addr", Protocol: "v1", EnterpriseID: "e", EnterpriseSecret: "s", Prefetch: 1, Heartbeat: 1, PongTimeout: 1, LoginTimeout: 1, WriteTimeout: 1, BackoffMin: 2, BackoffMax: 1, MaxLineBytes: 1 << 20}.Validate(),
			want: "SNOTI_ADDR=\"Addr\": must be host:port, e.g. snoti.gizwits.com:2017\nSNOTI_BACKOFF_MAX=1ns: must not be below SNOTI_BACKOFF_MIN=2ns",
		},
		{
			name: "wrapped keeps its prefix",
			err:  fmt.Errorf("validating: %w", snoti.Config{Addr: "x", Protocol: "v1", EnterpriseID: "e", EnterpriseSecret: "s", Prefetch: 1, Heartbeat: 1, PongTimeout: 1, LoginTimeout: 1, WriteTimeout: 1, BackoffMin: 1, BackoffMax: 1, MaxLineBytes: 1 << 20}.Validate()),
			want: `validating: SNOTI_ADDR="x": must be host:port, e.g. snoti.gizwits.com:2017`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fmt.Sprint(config.Rename(tt.err, snotiVars{}))
			if got != tt.want {
				t.Errorf("Rename = %q, want %q", got, tt.want)
			}
		})
	}
}
