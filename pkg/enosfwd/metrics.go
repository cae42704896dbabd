package enosfwd

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the forwarder's own counters, beside the consume runner's.
type metrics struct {
	records     *prometheus.CounterVec   // kind, outcome
	points      *prometheus.CounterVec   // mode
	posts       *prometheus.CounterVec   // kind, outcome
	postSeconds *prometheus.HistogramVec // kind
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		records: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enos_forwarder_records_total",
			Help: "Records handled, by kind (measurepoint, event, attribute, other) and outcome (sent, skipped, retry, or a dead-letter reason).",
		}, []string{"kind", "outcome"})),
		points: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enos_forwarder_points_total",
			Help: "Measurement point values accepted by EnOS, by mode (realtime, backfill).",
		}, []string{"mode"})),
		posts: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enos_forwarder_posts_total",
			Help: "Post calls to EnOS (one or more HTTP requests each), by kind and outcome (ok, partial, failed).",
		}, []string{"kind", "outcome"})),
		postSeconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "enos_forwarder_post_seconds",
			Help:    "Duration of post calls to EnOS, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"kind"})),
	}
}

// register registers c, or returns the collector a handler of the same
// process registered first (tests and bridgectl build several handlers).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
