package fielderr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

func TestError(t *testing.T) {
	cause := errors.New("no such file")
	tests := []struct {
		name string
		err  *fielderr.Error
		want string
	}{
		{name: "no value", err: fielderr.New("Token", "is empty: set the token"), want: "Token is empty: set the token"},
		{name: "string value", err: fielderr.Bad("Addr", "x", "must be host:port"), want: `Addr="x": must be host:port`},
		{name: "other value", err: fielderr.Bad("Prefetch", 0, "must be 1..%d", 32767), want: "Prefetch=0: must be 1..32767"},
		{name: "duration", err: fielderr.Bad("Heartbeat", 10*time.Minute, "must be at most 5m"), want: "Heartbeat=10m0s: must be at most 5m"},
		{name: "wrap", err: fielderr.Wrap("MappingFile", "/m.json", cause), want: `MappingFile="/m.json": no such file`},
		{name: "no value, cause", err: &fielderr.Error{Field: "ModuleTemplate", Err: cause}, want: "ModuleTemplate: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(fielderr.Wrap("F", "v", cause), cause) {
		t.Error("Wrap does not unwrap to its cause")
	}
}
