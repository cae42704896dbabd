package sinkenv_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/config/sinkenv"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestSinkErrorsNameTheVariables: the sinks' blocks, as bridgectl and the
// forwarders load them.
func TestSinkErrorsNameTheVariables(t *testing.T) {
	testkit.Unsetenv(t, "ENOS_APIM_URL", "ENOS_API_URL", "ENOS_ACCESS_KEY", "ENOS_SECRET_KEY", "ENOS_ORG_ID", "ENOS_MAPPING_FILE",
		"ENOS_ALLOW_INSECURE_HTTP", "ENOS_BACKFILL_AGE", "ENOS_REQUEST_TIMEOUT", "ENOS_TOKEN_REFRESH_AHEAD", "ENOS_MAX_MESSAGE_BYTES",
		"ENERGISME_URL", "ENERGISME_TOKEN", "ENERGISME_ALLOW_INSECURE_HTTP", "ENERGISME_SOURCE", "ENERGISME_MAPPING_FILE",
		"ENERGISME_UNMAPPED", "ENERGISME_CONCURRENCY", "ENERGISME_REQUEST_TIMEOUT")
	t.Setenv("ENOS_APIM_URL", "http://apim.example")
	t.Setenv("ENOS_API_URL", "https://api.example")
	t.Setenv("ENOS_BACKFILL_AGE", "-1h")
	t.Setenv("ENOS_MAX_MESSAGE_BYTES", "10")
	_, err := sinkenv.LoadEnOS()
	for _, w := range []string{
		"ENOS_MAPPING_FILE is empty: set it to the JSON file",
		"ENOS_BACKFILL_AGE=-1h0m0s: must be 0 (never by age) or positive",
		`ENOS_APIM_URL="http://apim.example": http:// would send the EnOS credentials in clear: use https://, or set ENOS_ALLOW_INSECURE_HTTP=true`,
		"ENOS_ACCESS_KEY is empty", "ENOS_SECRET_KEY is empty", "ENOS_ORG_ID is empty",
		"ENOS_MAX_MESSAGE_BYTES=10: must be 1024..524288",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadEnOS error %v lacks %q", err, w)
		}
	}

	if _, err := sinkenv.LoadEnergismePush(); err == nil || !strings.Contains(err.Error(), "ENERGISME_URL is empty") {
		t.Errorf("LoadEnergismePush without ENERGISME_URL: %v", err)
	}
	t.Setenv("ENERGISME_URL", "http://push.example/push")
	t.Setenv("ENERGISME_UNMAPPED", "keep")
	t.Setenv("ENERGISME_CONCURRENCY", "0")
	t.Setenv("ENERGISME_MAPPING_FILE", filepath.Join(t.TempDir(), "missing.json"))
	_, err = sinkenv.LoadEnergismePush()
	for _, w := range []string{
		`ENERGISME_URL="http://push.example/push": http:// would send the token in clear: use https://, or set ENERGISME_ALLOW_INSECURE_HTTP=true`,
		"ENERGISME_TOKEN is empty", `ENERGISME_MAPPING_FILE="`, `ENERGISME_UNMAPPED="keep": must be dlq`, "ENERGISME_CONCURRENCY=0: must be 1..1024",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadEnergismePush error %v lacks %q", err, w)
		}
	}
}
