package main

import (
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{
		"ENOS_APIM_URL": "https://apim.example", "ENOS_API_URL": "https://iot-http-integration.example",
		"ENOS_ACCESS_KEY": "ak", "ENOS_SECRET_KEY": "do-not-echo", "ENOS_ORG_ID": "o15",
		"ENOS_MAPPING_FILE": "mapping.example.json",
	}
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.GroupID != "enos" || c.TopicTelemetry != "device.telemetry.v1" || c.TopicEvents != "snoti.events.v1" || c.TopicDLQ != "enos.dlq.v1" {
				t.Errorf("topics and group = %s %s %s %s", c.GroupID, c.TopicTelemetry, c.TopicEvents, c.TopicDLQ)
			}
			if c.EnOS.BackfillAge != time.Hour || c.BatchSize != 1000 || c.BatchLinger != time.Millisecond || c.Concurrency != 4 || c.EnOS.RequestTimeout != 30*time.Second {
				t.Errorf("backfill age %s, batch %d, linger %s, concurrency %d, request timeout %s", c.EnOS.BackfillAge, c.BatchSize, c.BatchLinger, c.Concurrency, c.EnOS.RequestTimeout)
			}
		}},
		{name: "overrides", env: map[string]string{"GROUP_ID": "enos-b", "ENOS_BACKFILL_AGE": "0", "ENOS_BATCH_SIZE": "250", "ENOS_BATCH_LINGER": "0", "ENOS_CONCURRENCY": "1"}, check: func(t *testing.T, c Config) {
			if c.GroupID != "enos-b" || c.EnOS.BackfillAge != 0 || c.BatchSize != 250 || c.BatchLinger != 0 || c.Concurrency != 1 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "every problem at once",
			env:     map[string]string{"ENOS_API_URL": "iot.example", "ENOS_ORG_ID": "", "ENOS_MAPPING_FILE": "missing.json", "ENOS_BATCH_SIZE": "0", "ENOS_BATCH_LINGER": "21ms", "ENOS_CONCURRENCY": "65", "TOPIC_DLQ": "snoti.events.v1", "ENOS_BACKFILL_AGE": "-1h"},
			wantErr: []string{`ENOS_API_URL="iot.example"`, "ENOS_ORG_ID is empty", `ENOS_MAPPING_FILE="missing.json"`, "ENOS_BATCH_SIZE=0: must be 1..10000", "ENOS_BATCH_LINGER=21ms: must be 0 (none) up to 20ms", "ENOS_CONCURRENCY=65: must be 1..64", `TOPIC_DLQ="snoti.events.v1": must differ`, "ENOS_BACKFILL_AGE=-1h0m0s: must be 0"}},
		{name: "plain http sink", env: map[string]string{"ENOS_API_URL": "http://iot-http-integration.example"},
			wantErr: []string{`ENOS_API_URL="http://iot-http-integration.example": http:// would send the EnOS credentials in clear: use https://, or set ENOS_ALLOW_INSECURE_HTTP=true`}},
		{name: "plain http sink, allowed", env: map[string]string{"ENOS_APIM_URL": "http://sink-sim:8090", "ENOS_API_URL": "http://sink-sim:8090", "ENOS_ALLOW_INSECURE_HTTP": "true"},
			check: func(t *testing.T, c Config) {
				if !c.EnOS.AllowInsecureHTTP {
					t.Error("ENOS_ALLOW_INSECURE_HTTP=true not read")
				}
			}},
		{name: "sasl without tls", env: map[string]string{"KAFKA_SASL_MECHANISM": "plain", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "do-not-echo"},
			wantErr: []string{`KAFKA_SASL_MECHANISM="plain": without KAFKA_TLS_ENABLED=true`, "set KAFKA_TLS_ENABLED=true", "KAFKA_ALLOW_INSECURE_SASL=true"}},
		{name: "sasl without tls, allowed", env: map[string]string{"KAFKA_SASL_MECHANISM": "plain", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p", "KAFKA_ALLOW_INSECURE_SASL": "true"},
			check: func(t *testing.T, c Config) {
				if !c.Kafka.AllowInsecureSASL {
					t.Error("KAFKA_ALLOW_INSECURE_SASL=true not read")
				}
			}},
		{name: "secret key from a file", env: map[string]string{"ENOS_SECRET_KEY": "", "ENOS_SECRET_KEY_FILE": "testdata/secret-key"},
			check: func(t *testing.T, c Config) {
				if c.EnOS.SecretKey != "from-a-file" {
					t.Errorf("ENOS_SECRET_KEY from ENOS_SECRET_KEY_FILE = %q, want from-a-file", c.EnOS.SecretKey)
				}
			}},
		{name: "secret key twice", env: map[string]string{"ENOS_SECRET_KEY_FILE": "testdata/secret-key"},
			wantErr: []string{"ENOS_SECRET_KEY and ENOS_SECRET_KEY_FILE are both set: set only one"}},
		{name: "bridgectl's DLQ variable", env: map[string]string{"TOPIC_ENOS_DLQ": "enos.dlq.b"}, check: func(t *testing.T, c Config) {
			if c.TopicDLQ != "enos.dlq.b" || c.DLQFrom != "TOPIC_ENOS_DLQ" {
				t.Errorf("DLQ %q from %q, want enos.dlq.b from TOPIC_ENOS_DLQ", c.TopicDLQ, c.DLQFrom)
			}
		}},
		{name: "both DLQ variables agreeing", env: map[string]string{"TOPIC_DLQ": "enos.dlq.b", "TOPIC_ENOS_DLQ": "enos.dlq.b"}, check: func(t *testing.T, c Config) {
			if c.TopicDLQ != "enos.dlq.b" || c.DLQFrom != "TOPIC_DLQ" {
				t.Errorf("DLQ %q from %q", c.TopicDLQ, c.DLQFrom)
			}
		}},
		{name: "DLQ variables disagreeing", env: map[string]string{"TOPIC_DLQ": "a", "TOPIC_ENOS_DLQ": "b"},
			wantErr: []string{`TOPIC_DLQ="a" and TOPIC_ENOS_DLQ="b" disagree`}},
		{name: "unparseable", env: map[string]string{"ENOS_BACKFILL_AGE": "soon", "ENOS_BATCH_SIZE": "many"},
			wantErr: []string{`ENOS_BACKFILL_AGE="soon": cannot parse`, `ENOS_BATCH_SIZE="many": cannot parse`}},
		{name: "bad mapping", env: map[string]string{"ENOS_MAPPING_FILE": "testdata/bad-mapping.json"},
			wantErr: []string{`testdata/bad-mapping.json: products.3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b.points["voltage"]="voltage V"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, "ENOS_ALLOW_INSECURE_HTTP", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_ALLOW_INSECURE_SASL", "ENOS_SECRET_KEY_FILE")
			testkit.Setenv(t, base)
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
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), "do-not-echo") {
				t.Error("the secret key is in the error")
			}
		})
	}
}
