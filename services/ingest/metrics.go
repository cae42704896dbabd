package main

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	written     *prometheus.CounterVec // topic
	writeErrors prometheus.Counter
	acks        prometheus.Counter
	quarantined *prometheus.CounterVec // reason
	ignored     prometheus.Counter
	inFlight    prometheus.Gauge
	writeTime   prometheus.Histogram
	ackLatency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_records_written_total", Help: "Records Kafka acknowledged (acks=all), by topic.",
		}, []string{"topic"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_write_errors_total", Help: "Kafka writes that failed; their deliveries were not ACKed and are retried.",
		}),
		acks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_acks_total", Help: "Deliveries ACKed after their record was durable.",
		}),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_invalid_lines_total", Help: "Lines written to the invalid topic, by reason.",
		}, []string{"reason"}),
		ignored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingest_pushes_ignored_total", Help: "Pushes read during shutdown and left un-ACKed for SNoti to redeliver.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingest_in_flight_deliveries", Help: "Pushes received and not yet ACKed.",
		}),
		writeTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_kafka_write_seconds", Help: "Duration of one Kafka write (a batch), acks=all.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_push_ack_seconds", Help: "From reading a push to queueing its ACK.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
	}
	reg.MustRegister(m.written, m.writeErrors, m.acks, m.quarantined, m.ignored, m.inFlight, m.writeTime, m.ackLatency)
	return m
}
