package httpserver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
)

func TestServer(t *testing.T) {
	reg := httpserver.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "snotibridge_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)

	s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0"}, zerolog.Nop(), reg)
	var ready atomic.Bool
	s.AddReadiness("kafka", func(context.Context) error {
		if !ready.Load() {
			return errors.New("no successful write yet")
		}
		return nil
	})
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	base := "http://" + addr.String()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "no successful write yet") {
		t.Errorf("/readyz = %d %q, want 503 with reason", code, body)
	}
	ready.Store(true)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz after ready = %d, want 200", code)
	}
	if _, body := get("/metrics"); !strings.Contains(body, "snotibridge_test_total 3") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics lacks expected series:\n%s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
