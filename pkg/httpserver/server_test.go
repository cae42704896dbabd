package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	base := serve(t, s)

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
}

// serve runs s until the test ends, when Run must return nil, and returns
// its base URL.
func serve(t *testing.T, s *httpserver.Server) string {
	t.Helper()
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "http://" + addr.String()
}

// TestServerDropsSlowAndIdleClients: a client that stops sending its
// request, or keeps a connection idle, is disconnected once the read or
// idle timeout passed, instead of holding a connection and a goroutine.
func TestServerDropsSlowAndIdleClients(t *testing.T) {
	const timeout = 200 * time.Millisecond
	s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", ReadTimeout: timeout, IdleTimeout: timeout}, zerolog.Nop(), httpserver.NewRegistry())
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	closedWithin := func(t *testing.T, c net.Conn, within time.Duration) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(within))
		_, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %s", within)
		}
	}
	t.Run("slow request body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Headers, then only part of the announced body.
		_, _ = io.WriteString(c, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
		closedWithin(t, c, 10*timeout)
	})
	t.Run("idle keep-alive connection", func(t *testing.T) {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: %v %v", resp, err)
		}
		_ = resp.Body.Close()
		closedWithin(t, c, 10*timeout)
	})
}

// TestServerPprof: the profiles are served only when Pprof is set.
func TestServerPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Pprof: on}, zerolog.Nop(), httpserver.NewRegistry())
		resp, err := http.Get(serve(t, s) + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		profiled := resp.StatusCode == 200 && strings.Contains(string(body), "goroutine profile:")
		if profiled != on {
			t.Errorf("Pprof=%v: GET /debug/pprof/goroutine = %d, profile served %v", on, resp.StatusCode, profiled)
		}
	}
}
