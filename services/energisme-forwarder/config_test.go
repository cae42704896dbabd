package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, []byte("[127.0.0.1]:2022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badMapping := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badMapping, []byte(`{"products":{"pk":{"deviceid":"imei"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	push := map[string]string{"ENERGISME_URL": "http://127.0.0.1:8090/push", "ENERGISME_TOKEN": "sim-token", "ENERGISME_MAPPING_FILE": "mapping.example.json"}
	files := map[string]string{"ENERGISME_SFTP_ADDR": "127.0.0.1:2022", "ENERGISME_SFTP_USER": "energisme", "ENERGISME_SFTP_PASSWORD": "energisme", "ENERGISME_SFTP_KNOWN_HOSTS": knownHosts}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		{name: "push only, defaults", env: push, check: func(t *testing.T, c Config) {
			if c.Files.Enabled() || !c.Push.Enabled() || c.GroupID != "energisme" || c.TopicEvents != "snoti.events.v1" ||
				c.TopicDLQ != "energisme.dlq.v1" || c.Push.Source != "generic-sensors" || c.Push.Concurrency != energismefwd.DefaultConcurrency || c.Push.Unmapped != string(energismefwd.UnmappedDLQ) {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "files only, defaults", env: files, check: func(t *testing.T, c Config) {
			if c.Push.Enabled() || c.FilesGroupID != "energisme-files" || c.TopicTelemetry != "device.telemetry.v1" ||
				c.Files.Interval.String() != "10m0s" || c.Files.Format != "csv" || c.Files.TimeZone != "UTC" || c.Files.ModuleTemplate != "<did>.<point>" {
				t.Errorf("defaults: %+v", c.Files)
			}
		}},
		{name: "both", env: merge(push, files)},
		{name: "neither", env: map[string]string{}, wantErr: []string{"ENERGISME_URL and ENERGISME_SFTP_ADDR are both empty"}},
		{name: "push problems all at once", env: map[string]string{
			"ENERGISME_URL": "ftp://x", "ENERGISME_MAPPING_FILE": badMapping, "ENERGISME_UNMAPPED": "drop", "ENERGISME_CONCURRENCY": "0",
		}, wantErr: []string{"ENERGISME_URL=", "ENERGISME_TOKEN is empty", `bad.json: products["pk"].devicetype is empty`, `deviceid="imei"`, "ENERGISME_UNMAPPED=\"drop\"", "ENERGISME_CONCURRENCY=0"}},
		{name: "no mapping file", env: map[string]string{"ENERGISME_URL": "https://x/push", "ENERGISME_TOKEN": "t"}, wantErr: []string{"ENERGISME_MAPPING_FILE is empty"}},
		{name: "plain http sink", env: merge(push, map[string]string{"ENERGISME_URL": "http://sink-sim:8090/push"}),
			wantErr: []string{`ENERGISME_URL="http://sink-sim:8090/push": http:// would send the token in clear: use https://, or set ENERGISME_ALLOW_INSECURE_HTTP=true`}},
		{name: "plain http sink, allowed", env: merge(push, map[string]string{"ENERGISME_URL": "http://sink-sim:8090/push", "ENERGISME_ALLOW_INSECURE_HTTP": "true"})},
		{name: "sasl without tls", env: merge(push, map[string]string{"KAFKA_SASL_MECHANISM": "scram-sha-512", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}),
			wantErr: []string{`KAFKA_SASL_MECHANISM="scram-sha-512": without KAFKA_TLS_ENABLED=true`, "set KAFKA_TLS_ENABLED=true", "KAFKA_ALLOW_INSECURE_SASL=true"}},
		{name: "file problems", env: merge(files, map[string]string{
			"ENERGISME_SFTP_PASSWORD": "", "ENERGISME_FILE_INTERVAL": "100ms", "ENERGISME_FILE_MODULE_TEMPLATE": "<point>", "ENERGISME_FILE_PREFIX": ".hidden",
		}), wantErr: []string{"ENERGISME_SFTP_PASSWORD and ENERGISME_SFTP_KEY_FILE are both empty", "ENERGISME_FILE_INTERVAL=100ms", "ENERGISME_FILE_MODULE_TEMPLATE", "ENERGISME_FILE_PREFIX=\".hidden\""}},
		{name: "bad time zone and format", env: merge(files, map[string]string{"ENERGISME_FILE_TZ": "Mars/Olympus"}), wantErr: []string{"ENERGISME_FILE_TZ=\"Mars/Olympus\""}},
		{name: "unknown format", env: merge(files, map[string]string{"ENERGISME_FILE_FORMAT": "yaml"}), wantErr: []string{"ENERGISME_FILE_FORMAT=\"yaml\": must be csv, json or xml"}},
		{name: "bridgectl's DLQ variable", env: merge(push, map[string]string{"TOPIC_ENERGISME_DLQ": "e.dlq"}), check: func(t *testing.T, c Config) {
			if c.TopicDLQ != "e.dlq" || c.DLQFrom != "TOPIC_ENERGISME_DLQ" {
				t.Errorf("DLQ %q from %q, want e.dlq from TOPIC_ENERGISME_DLQ", c.TopicDLQ, c.DLQFrom)
			}
		}},
		{name: "DLQ variables disagreeing", env: merge(push, map[string]string{"TOPIC_DLQ": "a", "TOPIC_ENERGISME_DLQ": "b"}),
			wantErr: []string{`TOPIC_DLQ="a" and TOPIC_ENERGISME_DLQ="b" disagree`}},
		{name: "same groups", env: merge(push, map[string]string{"GROUP_ID": "g", "FILES_GROUP_ID": "g"}), wantErr: []string{"GROUP_ID and FILES_GROUP_ID are both \"g\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, "ENERGISME_URL", "ENERGISME_TOKEN", "ENERGISME_MAPPING_FILE", "ENERGISME_SFTP_ADDR", "ENERGISME_SFTP_USER", "ENERGISME_SFTP_PASSWORD", "ENERGISME_SFTP_KNOWN_HOSTS", "ENERGISME_ALLOW_INSECURE_HTTP", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "TOPIC_DLQ", "TOPIC_ENERGISME_DLQ")
			testkit.Setenv(t, tt.env)
			var e environ
			err := config.Load(&e)
			if (err != nil) != (len(tt.wantErr) > 0) {
				t.Fatalf("Load = %v, want errors %q", err, tt.wantErr)
			}
			for _, frag := range tt.wantErr {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error\n%v\nlacks %q", err, frag)
				}
			}
			if err == nil && tt.check != nil {
				tt.check(t, e.config())
			}
		})
	}
}

func TestExampleMapping(t *testing.T) {
	m, err := energismefwd.LoadMapping("mapping.example.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Resolve("3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b", "did-1", "")
	if err != nil || got.DeviceType == "" || got.DeviceID != "did-1" {
		t.Fatalf("example product resolves to %+v, %v", got, err)
	}
}

// TestConfigErrorsInOrder: every problem of the forwarder's own variables
// is reported, in the same order on every run.
func TestConfigErrorsInOrder(t *testing.T) {
	want := strings.Join([]string{
		`TOPIC_DLQ="a" and TOPIC_ENERGISME_DLQ="b" disagree: they name the same setting; set one of them, or both to the same value`,
		"TOPIC_EVENTS is empty: set it or leave it unset for the default",
		"TOPIC_TELEMETRY is empty: set it or leave it unset for the default",
		"GROUP_ID is empty: set it or leave it unset for the default",
		"FILES_GROUP_ID is empty: set it or leave it unset for the default",
		"ENERGISME_BATCH_SIZE=0: must be 1..10000",
	}, "\n")
	for range 20 { // a map would reorder them within a few runs
		c := Config{TopicDLQ: "a", TopicEnergismeDLQ: "b"}
		if err := c.Validate(); err == nil || err.Error() != want {
			t.Fatalf("Validate =\n%v\nwant\n%s", err, want)
		}
	}
}
