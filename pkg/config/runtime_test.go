package config_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestMainSetsTheGarbageCollector runs Main in a child process (the
// runtime reads GOGC and GOMEMLIMIT at start) and reads back what the
// runtime then runs with: unset, the project's defaults; GOGC or
// GOMEMLIMIT set, theirs, with the higher percent only under a memory
// limit; a spec that is a MemoryLimiter, its own limit; a malformed GOGC
// refused at start, naming it.
func TestMainSetsTheGarbageCollector(t *testing.T) {
	if child := os.Getenv("CONFIG_RUNTIME_CHILD"); child != "" {
		var spec config.Baser = &config.Base{}
		if child == "limiter" {
			spec = &limiterSpec{}
		}
		config.Main("child", spec, func(context.Context, zerolog.Logger) error {
			gc, limit := config.RuntimeInEffect()
			fmt.Printf("runtime gc=%d limit=%d\n", gc, limit)
			return nil
		})
		return
	}
	const defaultLimit = config.DefaultMemoryLimitMiB << 20
	tests := []struct {
		name      string
		env       []string
		wantCode  int
		wantOut   string
		wantError string
	}{
		{name: "defaults", wantOut: fmt.Sprintf("runtime gc=%d limit=%d", config.DefaultGCPercent, defaultLimit)},
		{name: "GOGC set", env: []string{"GOGC=150"}, wantOut: fmt.Sprintf("runtime gc=150 limit=%d", defaultLimit)},
		{name: "GOMEMLIMIT set", env: []string{"GOMEMLIMIT=1GiB"}, wantOut: fmt.Sprintf("runtime gc=%d limit=%d", config.DefaultGCPercent, 1<<30)},
		{name: "no limit, no higher percent", env: []string{"GOMEMLIMIT=off"}, wantOut: fmt.Sprintf("runtime gc=100 limit=%d", int64(math.MaxInt64))},
		{name: "a spec's own limit", env: []string{"CONFIG_RUNTIME_CHILD=limiter"}, wantOut: fmt.Sprintf("runtime gc=%d limit=%d", config.DefaultGCPercent, 52<<20)},
		{name: "a spec's own limit, GOMEMLIMIT set", env: []string{"CONFIG_RUNTIME_CHILD=limiter", "GOMEMLIMIT=1GiB"}, wantOut: fmt.Sprintf("runtime gc=%d limit=%d", config.DefaultGCPercent, 1<<30)},
		{name: "malformed GOGC", env: []string{"GOGC=lots"}, wantCode: 2, wantError: `GOGC="lots": must be a percent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Unsetenv(t, "GOGC", "GOMEMLIMIT", "KAFKA_BROKERS", "KAFKA_TLS_ENABLED", "KAFKA_SASL_MECHANISM", "LOG_LEVEL", "LOG_FORMAT", "HTTP_ADDR", "SHUTDOWN_TIMEOUT")
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainSetsTheGarbageCollector$")
			cmd.Env = append(append(os.Environ(), "CONFIG_RUNTIME_CHILD=1"), tt.env...)
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
			if tt.wantOut != "" && !strings.Contains(string(out), tt.wantOut+"\n") {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
			if tt.wantError != "" && !strings.Contains(string(out), tt.wantError) {
				t.Errorf("output lacks %q:\n%s", tt.wantError, out)
			}
		})
	}
}

// limiterSpec is a spec whose service takes a soft memory limit of 52 MiB.
type limiterSpec struct{ config.Base }

func (*limiterSpec) DefaultMemoryLimitMiB() int64 { return 52 }
