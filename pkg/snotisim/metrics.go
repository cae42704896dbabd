package snotisim

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterMetrics exposes the ledger counters to reg as snotisim_* metrics,
// read at scrape time.
func (s *Server) RegisterMetrics(reg prometheus.Registerer) error {
	counter := func(name, help string, f func(Summary) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "snotisim_" + name, Help: help},
			func() float64 { return float64(f(s.Summary())) })
	}
	gauge := func(name, help string, f func(Summary) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "snotisim_" + name, Help: help},
			func() float64 { return f(s.Summary()) })
	}
	cs := []prometheus.Collector{
		counter("events_total", "Events published.", func(x Summary) uint64 { return x.Events }),
		counter("pushes_total", "Pushes, redeliveries included.", func(x Summary) uint64 { return x.Pushes }),
		counter("redeliveries_total", "Pushes of messages pushed before.", func(x Summary) uint64 { return x.Redeliveries }),
		counter("acks_total", "Accepted ACKs.", func(x Summary) uint64 { return x.Acks }),
		counter("unknown_acks_total", "ACKs of delivery ids not outstanding on their connection.", func(x Summary) uint64 { return x.UnknownAcks }),
		counter("login_failures_total", "Refused logins.", func(x Summary) uint64 { return x.LoginFailures }),
		counter("disconnects_total", "Logged-in connections closed.", func(x Summary) uint64 { return x.Disconnects }),
		gauge("pending", "Messages not ACKed yet.", func(x Summary) float64 { return float64(x.Pending) }),
		gauge("backlog", "Messages waiting for a connection.", func(x Summary) float64 { return float64(x.Backlog) }),
		gauge("connections", "Logged-in connections.", func(x Summary) float64 { return float64(x.Connected) }),
	}
	var errs []error
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("registering simulator metrics: %w", err)
	}
	return nil
}
