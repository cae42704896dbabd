package kafkaconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/compress/snappy"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Config is the Kafka part of every service's configuration. Validation
// errors name its fields; pkg/config maps the KAFKA_* variables onto it.
type Config struct {
	Brokers    []string
	TLSEnabled bool
	TLSCAFile  string
	// TLSCertFile and TLSKeyFile are a client certificate and its key
	// (PEM), for brokers that authenticate clients by certificate (Strimzi
	// "authentication: tls", MSK mTLS). Both or neither. They are read
	// again for every new connection, so a renewed certificate is used
	// without a restart.
	TLSCertFile   string
	TLSKeyFile    string
	SASLMechanism string
	SASLUsername  string
	SASLPassword  string
	// AllowInsecureSASL accepts SASL over a plaintext connection, where
	// the credentials (in clear with plain) and every record can be read
	// on the network. Refused unless set: a broker on a trusted local
	// network only.
	AllowInsecureSASL bool
}

// Validate reports every problem in the Kafka settings.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, fielderr.New("Brokers", "is empty: set host:port[,host:port…]"))
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(strings.TrimSpace(b)); err != nil {
			errs = append(errs, fielderr.New("Brokers", "entry %q: must be host:port", b))
		}
	}
	if c.TLSCAFile != "" {
		if !c.TLSEnabled {
			errs = append(errs, fielderr.New("TLSCAFile", "is set but TLSEnabled is false: set TLSEnabled=true"))
		}
		if _, err := os.Stat(c.TLSCAFile); err != nil {
			errs = append(errs, fielderr.Wrap("TLSCAFile", c.TLSCAFile, err))
		}
	}
	switch {
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		errs = append(errs, &fielderr.Error{Field: "TLSCertFile", Reason: "and TLSKeyFile: set both (a client certificate and its key, PEM) or neither"})
	case c.TLSCertFile != "":
		if !c.TLSEnabled {
			errs = append(errs, fielderr.New("TLSCertFile", "is set but TLSEnabled is false: set TLSEnabled=true"))
		}
		if _, err := c.clientCertificate(); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.SASLMechanism {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.SASLUsername == "" || c.SASLPassword == "" {
			errs = append(errs, fielderr.Bad("SASLMechanism", c.SASLMechanism, "needs SASLUsername and SASLPassword"))
		}
		if !c.TLSEnabled && !c.AllowInsecureSASL {
			errs = append(errs, fielderr.Bad("SASLMechanism", c.SASLMechanism, "without TLSEnabled=true: the credentials and every record would cross the network unencrypted; set TLSEnabled=true (and TLSCAFile for a private CA), or AllowInsecureSASL=true for a broker on a trusted local network"))
		}
	default:
		errs = append(errs, fielderr.Bad("SASLMechanism", c.SASLMechanism, "must be plain, scram-sha-256 or scram-sha-512"))
	}
	return errors.Join(errs...)
}

// Addrs returns the bootstrap addresses with spaces trimmed.
func (c Config) Addrs() []string {
	out := make([]string, 0, len(c.Brokers))
	for _, b := range c.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

func (c Config) tlsConfig() (*tls.Config, error) {
	if !c.TLSEnabled {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading TLSCAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fielderr.Bad("TLSCAFile", c.TLSCAFile, "holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return c.clientCertificate()
		}
	}
	return cfg, nil
}

// clientCertificate reads the client certificate and key. It runs for
// every TLS handshake (connections are long-lived, handshakes rare), so a
// certificate renewed on disk (cert-manager, Strimzi's User Operator) is
// picked up by the next connection.
func (c Config) clientCertificate() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		return nil, &fielderr.Error{Field: "TLSCertFile", Value: fmt.Sprintf("%q", c.TLSCertFile), Reason: fmt.Sprintf("loading the client certificate with TLSKeyFile=%q", c.TLSKeyFile), Err: err}
	}
	return &cert, nil
}

func (c Config) mechanism() (sasl.Mechanism, error) {
	switch c.SASLMechanism {
	case "":
		return nil, nil
	case "plain":
		return plain.Mechanism{Username: c.SASLUsername, Password: c.SASLPassword}, nil
	case "scram-sha-256":
		return scram.Mechanism(scram.SHA256, c.SASLUsername, c.SASLPassword)
	case "scram-sha-512":
		return scram.Mechanism(scram.SHA512, c.SASLUsername, c.SASLPassword)
	}
	return nil, fielderr.Bad("SASLMechanism", c.SASLMechanism, "unsupported")
}

// Dialer returns a dialer for readers and admin connections.
func (c Config) Dialer() (*kafka.Dialer, error) {
	t, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	m, err := c.mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: t, SASLMechanism: m}, nil
}

// Transport returns a transport for writers and kafka.Client.
func (c Config) Transport() (*kafka.Transport, error) {
	t, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	m, err := c.mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{DialTimeout: 10 * time.Second, TLS: t, SASL: m, MetadataTTL: 30 * time.Second}, nil
}

// Client returns an admin/metadata client (CreateTopics, ListOffsets, …).
func (c Config) Client() (*kafka.Client, error) {
	tr, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &kafka.Client{Addr: kafka.TCP(c.Addrs()...), Transport: tr, Timeout: 30 * time.Second}, nil
}

// NewWriter returns a writer for topic ("" lets each message name its own)
// with the project's durability defaults, set explicitly because kafka-go's
// zero values are unsafe here: RequiredAcks defaults to none, Balancer to
// round-robin (keys ignored), BatchTimeout to one second, and auto-creation
// would hide a missing topic. Callers write synchronously and bound their
// own in-flight work: kafka-go's internal queue is unbounded.
//
// Callers batch by themselves (a consumer's batch, the ingest's pushes
// queued while a write is in flight), so kafka-go's linger would only add
// latency: a WriteMessages that does not fill BatchSize for a partition
// waits out BatchTimeout before it is sent. A synchronous WriteMessages
// adds all its records of a partition under the lock the batch timer also
// needs, so a timer of a nanosecond sends each partition's share of the
// call at once, whole. What is lost is batching across concurrent callers,
// which each wait for their own write anyway.
//
// BatchSize caps the records of one partition in one produce request.
// kafka-go allocates each such batch a slice of BatchSize messages (152 B
// each) whatever it holds, once per partition and write: at 200 that stays
// under 32 KiB, a small object. At 1000 (152 KB, a large object zeroed per
// write) the ingest and the decoder, whose writes carry a few records each
// at moderate rates, spent 7% and 4% of their CPU allocating it at 5k
// events/s, and the chain's EnOS path was slower in all 5 of 5 alternated
// runs (forwarder p50 42-101 ms against 127-271 ms); full-speed writes
// simply carry more requests, and measured as fast within the noise.
//
// Records are Snappy-compressed through kafka-go's process-wide codec,
// which this package's init sets to S2's fast mode (see there).
func (c Config) NewWriter(topic string) (*kafka.Writer, error) {
	tr, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &kafka.Writer{
		Addr:                   kafka.TCP(c.Addrs()...),
		Topic:                  topic,
		Transport:              tr,
		RequiredAcks:           kafka.RequireAll,
		Balancer:               &kafka.Murmur2Balancer{},
		BatchTimeout:           time.Nanosecond,
		BatchSize:              200,
		BatchBytes:             8 << 20,
		MaxAttempts:            3,
		WriteTimeout:           10 * time.Second,
		AllowAutoTopicCreation: false,
		Compression:            kafka.Snappy,
	}, nil
}

// init makes kafka-go's Snappy codec, the one every writer's
// kafka.Snappy compression goes through, encode in S2's fast mode instead
// of its default "better" mode. The output is the same Snappy format, which
// every Kafka client and the broker read; on a batch of our records it
// encodes about 2.7 times as fast (4.8 against 1.8 GB/s) for 2% more bytes,
// and the better mode was the ingest's largest single cost after parsing
// (7.7% of its CPU at full speed, issue 16). The codec is a global of
// kafka-go's, so it is set once, before any writer exists.
func init() {
	compress.SnappyCodec.Compression = snappy.FasterCompression
}
