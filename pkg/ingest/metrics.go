package ingest

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of a Pipeline. The fields are
// exported to be read (tests, dashboards); only the pipeline writes them.
type Metrics struct {
	Written     *prometheus.CounterVec // topic
	WriteErrors prometheus.Counter
	Acks        prometheus.Counter
	Quarantined *prometheus.CounterVec // reason
	Ignored     prometheus.Counter
	InFlight    prometheus.Gauge
	WriteTime   prometheus.Histogram
	AckLatency  prometheus.Histogram
}

// NewMetrics builds the collectors and registers them with reg; a nil reg
// registers nothing (the collectors still count).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_records_written_total", Help: "Records Kafka acknowledged (acks=all), by topic.",
		}, []string{"topic"}),
		WriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_write_errors_total", Help: "Kafka writes that failed; their deliveries were not ACKed and are retried.",
		}),
		Acks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_acks_total", Help: "Deliveries ACKed after their record was durable.",
		}),
		Quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_invalid_lines_total", Help: "Lines written to the invalid topic, by reason.",
		}, []string{"reason"}),
		Ignored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_pushes_ignored_total", Help: "Pushes read during shutdown and left un-ACKed for SNoti to redeliver.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingest_in_flight_deliveries", Help: "Pushes received and not yet ACKed.",
		}),
		WriteTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_kafka_write_seconds", Help: "Duration of one Kafka write (a batch), acks=all.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_push_ack_seconds", Help: "From reading a push to queueing its ACK.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.Written, m.WriteErrors, m.Acks, m.Quarantined, m.Ignored, m.InFlight, m.WriteTime, m.AckLatency} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registering the ingest metrics: %w", err)
	}
	return m, nil
}
