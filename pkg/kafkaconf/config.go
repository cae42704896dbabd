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
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Config is the Kafka part of every service's configuration.
type Config struct {
	Brokers    []string `envconfig:"KAFKA_BROKERS" default:"localhost:9092"`
	TLSEnabled bool     `envconfig:"KAFKA_TLS_ENABLED"`
	TLSCAFile  string   `envconfig:"KAFKA_TLS_CA_FILE"`
	// TLSCertFile and TLSKeyFile are a client certificate and its key
	// (PEM), for brokers that authenticate clients by certificate (Strimzi
	// "authentication: tls", MSK mTLS). Both or neither. They are read
	// again for every new connection, so a renewed certificate is used
	// without a restart.
	TLSCertFile   string `envconfig:"KAFKA_TLS_CERT_FILE"`
	TLSKeyFile    string `envconfig:"KAFKA_TLS_KEY_FILE"`
	SASLMechanism string `envconfig:"KAFKA_SASL_MECHANISM"`
	SASLUsername  string `envconfig:"KAFKA_SASL_USERNAME"`
	SASLPassword  string `envconfig:"KAFKA_SASL_PASSWORD" file:"true"`
	// AllowInsecureSASL accepts SASL over a plaintext connection, where
	// the credentials (in clear with plain) and every record can be read
	// on the network. Refused unless set: a broker on a trusted local
	// network only.
	AllowInsecureSASL bool `envconfig:"KAFKA_ALLOW_INSECURE_SASL"`
}

// Validate reports every problem in the Kafka settings.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("KAFKA_BROKERS is empty: set host:port[,host:port…]"))
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(strings.TrimSpace(b)); err != nil {
			errs = append(errs, fmt.Errorf("KAFKA_BROKERS entry %q: must be host:port", b))
		}
	}
	if c.TLSCAFile != "" {
		if !c.TLSEnabled {
			errs = append(errs, errors.New("KAFKA_TLS_CA_FILE is set but KAFKA_TLS_ENABLED is false: set KAFKA_TLS_ENABLED=true"))
		}
		if _, err := os.Stat(c.TLSCAFile); err != nil {
			errs = append(errs, fmt.Errorf("KAFKA_TLS_CA_FILE=%q: %v", c.TLSCAFile, err))
		}
	}
	switch {
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		errs = append(errs, errors.New("KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE: set both (a client certificate and its key, PEM) or neither"))
	case c.TLSCertFile != "":
		if !c.TLSEnabled {
			errs = append(errs, errors.New("KAFKA_TLS_CERT_FILE is set but KAFKA_TLS_ENABLED is false: set KAFKA_TLS_ENABLED=true"))
		}
		if _, err := c.clientCertificate(); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.SASLMechanism {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.SASLUsername == "" || c.SASLPassword == "" {
			errs = append(errs, fmt.Errorf("KAFKA_SASL_MECHANISM=%s needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD", c.SASLMechanism))
		}
		if !c.TLSEnabled && !c.AllowInsecureSASL {
			errs = append(errs, fmt.Errorf("KAFKA_SASL_MECHANISM=%s without KAFKA_TLS_ENABLED=true: the credentials and every record would cross the network unencrypted; set KAFKA_TLS_ENABLED=true (and KAFKA_TLS_CA_FILE for a private CA), or KAFKA_ALLOW_INSECURE_SASL=true for a broker on a trusted local network", c.SASLMechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("KAFKA_SASL_MECHANISM=%q: must be plain, scram-sha-256 or scram-sha-512", c.SASLMechanism))
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
			return nil, fmt.Errorf("reading KAFKA_TLS_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("KAFKA_TLS_CA_FILE=%q holds no PEM certificate", c.TLSCAFile)
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
		return nil, fmt.Errorf("KAFKA_TLS_CERT_FILE=%q, KAFKA_TLS_KEY_FILE=%q: loading the client certificate: %w", c.TLSCertFile, c.TLSKeyFile, err)
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
	return nil, fmt.Errorf("KAFKA_SASL_MECHANISM=%q: unsupported", c.SASLMechanism)
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
		BatchTimeout:           2 * time.Millisecond,
		BatchSize:              1000,
		BatchBytes:             8 << 20,
		MaxAttempts:            3,
		WriteTimeout:           10 * time.Second,
		AllowAutoTopicCreation: false,
		Compression:            kafka.Snappy,
	}, nil
}
