package config_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestMainWarnsOfInsecureSASL runs Main in a child process: SASL over
// plaintext is refused (exit 2) unless KAFKA_ALLOW_INSECURE_SASL=true, and
// when it is allowed the service starts with a warning naming the
// variable; with TLS there is no warning.
func TestMainWarnsOfInsecureSASL(t *testing.T) {
	if os.Getenv("CONFIG_MAIN_CHILD") == "1" {
		var b config.Base
		config.Main("child", &b, func(context.Context, zerolog.Logger) error { return nil })
		return
	}
	base := map[string]string{"KAFKA_SASL_MECHANISM": "plain", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "secret-pw"}
	tests := []struct {
		name     string
		env      map[string]string
		wantCode int
		warn     bool
	}{
		{name: "refused", env: map[string]string{}, wantCode: 2},
		{name: "allowed, with a warning", env: map[string]string{"KAFKA_ALLOW_INSECURE_SASL": "true"}, wantCode: 0, warn: true},
		{name: "tls, no warning", env: map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_ALLOW_INSECURE_SASL": "true"}, wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, "KAFKA_BROKERS", "KAFKA_TLS_ENABLED", "KAFKA_TLS_CA_FILE", "KAFKA_TLS_CERT_FILE", "KAFKA_TLS_KEY_FILE",
				"KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_ALLOW_INSECURE_SASL", "LOG_LEVEL", "LOG_FORMAT", "HTTP_ADDR", "HTTP_PPROF", "SHUTDOWN_TIMEOUT")
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainWarnsOfInsecureSASL$")
			cmd.Env = append(os.Environ(), "CONFIG_MAIN_CHILD=1")
			for k, v := range base {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			for k, v := range tt.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.wantCode, out)
			}
			warned := strings.Contains(string(out), `"level":"warn"`) && strings.Contains(string(out), "KAFKA_ALLOW_INSECURE_SASL=true: the SASL plain credentials")
			if warned != tt.warn {
				t.Fatalf("warning logged = %v, want %v:\n%s", warned, tt.warn, out)
			}
			if strings.Contains(string(out), "secret-pw") {
				t.Fatalf("the password reached the output:\n%s", out)
			}
		})
	}
}
