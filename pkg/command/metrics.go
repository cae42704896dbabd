package command

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
)

type metrics struct {
	results    *prometheus.CounterVec // status, path
	duplicates prometheus.Counter
	latency    *prometheus.HistogramVec // path
	sendErrors *prometheus.CounterVec   // path
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snotibridge_commands_results_total",
			Help: "Command results written, by status (succeeded, failed, expired, rejected) and path.",
		}, []string{"status", "path"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snotibridge_commands_duplicates_total",
			Help: "Commands not sent because their result is already on the results topic.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "snotibridge_commands_latency_seconds",
			Help:    "From a command's requested_at to its answer, for commands that were sent.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
		}, []string{"path"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snotibridge_commands_send_errors_total",
			Help: "Attempts that could not reach Gizwits (retried).",
		}, []string{"path"}),
	}
	m.results = httpserver.Register(reg, m.results)
	m.duplicates = httpserver.Register(reg, m.duplicates)
	m.latency = httpserver.Register(reg, m.latency)
	m.sendErrors = httpserver.Register(reg, m.sendErrors)
	return m
}
