package consume

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
)

type metrics struct {
	messages *prometheus.CounterVec   // stage, outcome
	retries  *prometheus.CounterVec   // stage
	dlq      *prometheus.CounterVec   // stage, reason
	inFlight *prometheus.GaugeVec     // stage
	lag      *prometheus.GaugeVec     // stage, topic, partition
	batch    *prometheus.HistogramVec // stage
	commits  *prometheus.CounterVec   // stage, result
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snotibridge_consumer_messages_total",
			Help: "Messages finished by a consuming stage, by outcome (success, dead_letter, duplicate).",
		}, []string{"stage", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snotibridge_consumer_retries_total",
			Help: "Message attempts that failed retryably and were retried.",
		}, []string{"stage"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snotibridge_consumer_dead_letters_total",
			Help: "Messages written to the stage's dead-letter topic, by reason.",
		}, []string{"stage", "reason"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "snotibridge_consumer_in_flight",
			Help: "Messages fetched and not yet finished.",
		}, []string{"stage"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "snotibridge_consumer_lag",
			Help: "Messages behind the partition's high watermark, as of the last fetch.",
		}, []string{"stage", "topic", "partition"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "snotibridge_consumer_batch_seconds",
			Help:    "Time to finish a batch, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"stage"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snotibridge_consumer_commits_total",
			Help: "Offset commits, by result (ok, error).",
		}, []string{"stage", "result"}),
	}
	m.messages = httpserver.Register(reg, m.messages)
	m.retries = httpserver.Register(reg, m.retries)
	m.dlq = httpserver.Register(reg, m.dlq)
	m.inFlight = httpserver.Register(reg, m.inFlight)
	m.lag = httpserver.Register(reg, m.lag)
	m.batch = httpserver.Register(reg, m.batch)
	m.commits = httpserver.Register(reg, m.commits)
	return m
}

// finished counts a message done with outcome o.
func (m *metrics) finished(stage string, o Outcome) {
	m.messages.WithLabelValues(stage, o.Result.label()).Inc()
	if o.Result == DeadLettered {
		m.dlq.WithLabelValues(stage, o.Reason()).Inc()
	}
}
