package config_test

import (
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestBaseErrorsNameTheVariables: the libraries' field errors reach the
// operator under the variables' names, with the fix.
func TestBaseErrorsNameTheVariables(t *testing.T) {
	vars := []string{"KAFKA_BROKERS", "KAFKA_TLS_ENABLED", "KAFKA_TLS_CA_FILE", "KAFKA_TLS_CERT_FILE", "KAFKA_TLS_KEY_FILE",
		"KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_ALLOW_INSECURE_SASL",
		"LOG_LEVEL", "LOG_FORMAT", "HTTP_ADDR", "HTTP_PPROF", "SHUTDOWN_TIMEOUT"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{name: "defaults"},
		{name: "no port", env: map[string]string{"KAFKA_BROKERS": "localhost"}, wantErr: []string{`KAFKA_BROKERS entry "localhost": must be host:port`}},
		{name: "sasl without tls", env: map[string]string{"KAFKA_SASL_MECHANISM": "plain", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"},
			wantErr: []string{`KAFKA_SASL_MECHANISM="plain": without KAFKA_TLS_ENABLED=true: the credentials and every record would cross the network unencrypted; set KAFKA_TLS_ENABLED=true (and KAFKA_TLS_CA_FILE for a private CA), or KAFKA_ALLOW_INSECURE_SASL=true`}},
		{name: "missing password", env: map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_SASL_MECHANISM": "scram-sha-512", "KAFKA_SASL_USERNAME": "u"},
			wantErr: []string{"needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"}},
		{name: "cert without key", env: map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CERT_FILE": "/c.pem"},
			wantErr: []string{"KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE: set both"}},
		{name: "ca without tls", env: map[string]string{"KAFKA_TLS_CA_FILE": "/nonexistent"},
			wantErr: []string{"KAFKA_TLS_CA_FILE is set but KAFKA_TLS_ENABLED is false: set KAFKA_TLS_ENABLED=true", `KAFKA_TLS_CA_FILE="/nonexistent": stat /nonexistent`}},
		{name: "every shared part at once", env: map[string]string{"LOG_LEVEL": "loud", "LOG_FORMAT": "xml", "HTTP_ADDR": "8080", "SHUTDOWN_TIMEOUT": "-1s"},
			wantErr: []string{`LOG_LEVEL="loud": must be one of`, `LOG_FORMAT="xml": must be json or console`, `HTTP_ADDR="8080": must be host:port`, "SHUTDOWN_TIMEOUT=-1s: must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, vars...)
			testkit.Setenv(t, tt.env)
			var b config.Base
			err := config.Load(&b)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				s := b.Service()
				if s.Kafka.Brokers[0] != "localhost:9092" || s.Log.Level != "info" || s.HTTP.Addr != ":8080" || s.ShutdownTimeout.String() != "30s" {
					t.Errorf("defaults not applied: %+v", s)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load: want errors %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

type typedPart struct{ N int }

func (typedPart) Validate() error { panic("a typed Config was validated as if loaded") }

// TestLoadLeavesTypedConfigsAlone: a struct without envconfig tags in a
// spec is the typed Config the spec fills later; Load does not validate it.
func TestLoadLeavesTypedConfigsAlone(t *testing.T) {
	testkit.Unsetenv(t, "T_NAME")
	t.Setenv("T_NAME", "x")
	var spec struct {
		Typed typedPart
		Name  string `envconfig:"T_NAME"`
	}
	if err := config.Load(&spec); err != nil || spec.Name != "x" {
		t.Fatalf("Load = %v, %+v", err, spec)
	}
}
