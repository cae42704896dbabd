package snoti

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of SNoti clients. One Metrics may be
// shared by several clients of a process (one per connection); build it once
// with NewMetrics and pass it to each client with WithMetrics.
type Metrics struct {
	pushes        *prometheus.CounterVec
	invalid       *prometheus.CounterVec
	acksSent      prometheus.Counter
	acksDropped   prometheus.Counter
	logins        prometheus.Counter
	reconnects    prometheus.Counter
	loginFailures prometheus.Counter
	relogins      prometheus.Counter
	disconnects   *prometheus.CounterVec
	connected     prometheus.Gauge
}

// NewMetrics builds the collectors and registers them with reg; a nil reg
// registers nothing (the collectors still count).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snoti_pushes_total", Help: "Pushes received, by event type (other: types not in the reference).",
		}, []string{"event_type"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snoti_invalid_lines_total", Help: "Lines that could not be handled as pushes, by kind.",
		}, []string{"kind"}),
		acksSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snoti_acks_sent_total", Help: "ACKs written to the server.",
		}),
		acksDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snoti_acks_dropped_total", Help: "ACKs dropped because their connection was lost (the server redelivers).",
		}),
		logins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snoti_logins_total", Help: "Successful logins.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snoti_reconnects_total", Help: "Connection attempts after a failure or a lost connection.",
		}),
		loginFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snoti_login_failures_total", Help: "Logins refused by the server (credentials, IP whitelist).",
		}),
		relogins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snoti_relogins_total", Help: "Logins again on a live connection after the server said it was not logged in (invalid_msg 4001/4003).",
		}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snoti_disconnects_total", Help: "Logged-in connections lost, by reason: no_heartbeat (the server's \"No Heartbeat!\"), pong_timeout, relogin_refused, error.",
		}, []string{"reason"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snoti_connections_ready", Help: "Connections logged in right now.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.pushes, m.invalid, m.acksSent, m.acksDropped, m.logins, m.reconnects, m.loginFailures, m.relogins, m.disconnects, m.connected} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registering snoti metrics: %w", err)
	}
	return m, nil
}
