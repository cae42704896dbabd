package logging_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/logging"
)

func TestNewTo(t *testing.T) {
	tests := []struct {
		name    string
		cfg     logging.Config
		wantErr bool
	}{
		{name: "json info", cfg: logging.Config{Level: "info", Format: "json"}},
		{name: "console debug", cfg: logging.Config{Level: "debug", Format: "console"}},
		{name: "bad level", cfg: logging.Config{Level: "loud", Format: "json"}, wantErr: true},
		{name: "bad format", cfg: logging.Config{Level: "info", Format: "xml"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := logging.NewTo(&buf, tt.cfg, "svc")
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewTo error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			log.Info().Str("k", "v").Msg("hello")
			if buf.Len() == 0 {
				t.Fatal("nothing logged")
			}
			if tt.cfg.Format == "json" {
				var m map[string]any
				if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
					t.Fatalf("not JSON: %v: %s", err, buf.String())
				}
				if m["service"] != "svc" || m["k"] != "v" {
					t.Errorf("fields missing: %v", m)
				}
			}
		})
	}
}
