package kafkatest

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
)

var shared struct {
	once    sync.Once
	broker  *Broker
	dir     string
	brokers []string
	err     error
}

// Brokers returns the bootstrap addresses of the broker shared by the tests
// of this binary: KAFKA_BROKERS when set, otherwise a broker started on first
// use. Call Main from TestMain to stop a started broker when the tests end
// (it is killed with the test binary in any case).
func Brokers(tb testing.TB) []string {
	tb.Helper()
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		return strings.Split(env, ",")
	}
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "kafkatest-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		b, err := newBroker(dir)
		if err != nil {
			shared.err = err
			return
		}
		if err := b.Start(); err != nil {
			shared.err = err
			return
		}
		shared.broker = b
		shared.brokers = []string{b.Addr()}
	})
	if shared.err != nil {
		tb.Fatalf("starting the shared Kafka broker: %v", shared.err)
	}
	return shared.brokers
}

// Config returns a kafkaconf.Config for the shared broker.
func Config(tb testing.TB) kafkaconf.Config {
	tb.Helper()
	return kafkaconf.Config{Brokers: Brokers(tb)}
}

// Main runs the tests and stops the shared broker, if this binary started
// one. Use it from TestMain: func TestMain(m *testing.M) { kafkatest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if shared.broker != nil {
		shared.broker.Stop()
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
