package sinksim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

func TestStackServesAllEmulators(t *testing.T) {
	st, err := sinksim.NewStack(sinksim.StackConfig{
		EnOS:      sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}},
		Energisme: sinksim.EnergismeConfig{Token: "tok"},
		SFTP:      &sinksim.SFTPConfig{Root: t.TempDir(), Passwords: map[string]string{"u": "p"}},
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Stop(ctx)
	})
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)

	for _, path := range []string{"/sim/enos/stats", "/sim/energisme/stats", "/sim/sftp/ops"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, resp.StatusCode)
		}
	}
	post := func(path string) int {
		resp, err := http.Post(srv.URL+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/sim/sftp/stop"); code != http.StatusNoContent || st.SFTP.Running() {
		t.Fatalf("stop: HTTP %d, running %v", code, st.SFTP.Running())
	}
	if _, err := dialSFTP(st.SFTP, "u", "p"); err == nil {
		t.Fatal("SFTP reachable while stopped")
	}
	if code := post("/sim/sftp/start"); code != http.StatusNoContent || !st.SFTP.Running() {
		t.Fatalf("start: HTTP %d, running %v", code, st.SFTP.Running())
	}
	c, err := dialSFTP(st.SFTP, "u", "p")
	if err != nil {
		t.Fatalf("SFTP after restart: %v", err)
	}
	c.Close()
	if code := post("/sim/sftp/start"); code != http.StatusConflict {
		t.Fatalf("second start: HTTP %d, want 409", code)
	}
}

func TestStackRejectsClashingPaths(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{name: "under sim", path: "/sim/push"},
		{name: "under EnOS", path: "/connect-service/v2.1/integration"},
		{name: "pattern syntax", path: "/push/{id}"},
		{name: "method in path", path: "POST /push"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sinksim.NewStack(sinksim.StackConfig{
				EnOS:      sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}},
				Energisme: sinksim.EnergismeConfig{Token: "tok", Path: tt.path},
			}, zerolog.Nop())
			if err == nil {
				t.Fatalf("NewStack accepted Energisme path %q", tt.path)
			}
		})
	}
}
