package httpserver_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
)

func TestRegisterReusesExisting(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "snotibridge_register_test_total", Help: "test"}
	first := httpserver.Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
	second := httpserver.Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
	if first != second {
		t.Fatal("second Register returned a new collector, want the registered one")
	}
	second.WithLabelValues("a").Inc()
	if n, _ := reg.Gather(); len(n) != 1 {
		t.Errorf("gathered %d families, want 1", len(n))
	}
	if c := httpserver.Register(nil, prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})); c == nil {
		t.Error("nil registry: want the collector back")
	}
}
