package consume

import (
	"github.com/prometheus/client_golang/prometheus"
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
	if reg != nil {
		for _, c := range []prometheus.Collector{m.messages, m.retries, m.dlq, m.inFlight, m.lag, m.batch, m.commits} {
			if err := reg.Register(c); err != nil {
				// Several runners in one process share the collectors.
				if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
					switch c {
					case m.messages:
						m.messages = are.ExistingCollector.(*prometheus.CounterVec)
					case m.retries:
						m.retries = are.ExistingCollector.(*prometheus.CounterVec)
					case m.dlq:
						m.dlq = are.ExistingCollector.(*prometheus.CounterVec)
					case m.inFlight:
						m.inFlight = are.ExistingCollector.(*prometheus.GaugeVec)
					case m.lag:
						m.lag = are.ExistingCollector.(*prometheus.GaugeVec)
					case m.batch:
						m.batch = are.ExistingCollector.(*prometheus.HistogramVec)
					case m.commits:
						m.commits = are.ExistingCollector.(*prometheus.CounterVec)
					}
				}
			}
		}
	}
	return m
}
