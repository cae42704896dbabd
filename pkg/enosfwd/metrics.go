package enosfwd

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snotibridge/snotibridge/pkg/httpserver"
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
		records: httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enos_forwarder_records_total",
			Help: "Records handled, by kind (measurepoint, event, attribute, other) and outcome (sent, skipped, retry, or a dead-letter reason).",
		}, []string{"kind", "outcome"})),
		points: httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enos_forwarder_points_total",
			Help: "Measurement point values accepted by EnOS, by mode (realtime, backfill).",
		}, []string{"mode"})),
		posts: httpserver.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enos_forwarder_posts_total",
			Help: "Post calls to EnOS (one or more HTTP requests each), by kind and outcome (ok, partial, failed).",
		}, []string{"kind", "outcome"})),
		postSeconds: httpserver.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "enos_forwarder_post_seconds",
			Help:    "Duration of post calls to EnOS, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"kind"})),
	}
}
