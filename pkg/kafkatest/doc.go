// Package kafkatest gives integration tests a real Apache Kafka broker.
//
// Tests use the broker named by KAFKA_BROKERS when it is set (make test
// starts one for the whole run); otherwise the package starts its own KRaft
// broker once per test binary through tools/kafka/kafka.sh. Each test gets
// uniquely named topics, created explicitly (the brokers never auto-create)
// and deleted afterwards. StartBroker gives a test a broker of its own that it
// may kill -9 and restart; StartCluster gives it three KRaft nodes (each
// broker and controller) whose Topic is replicated on all three with
// min.insync.replicas=2, and whose nodes it may kill, stop and restart.
package kafkatest
