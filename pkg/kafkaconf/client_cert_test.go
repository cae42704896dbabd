package kafkaconf_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
)

// TestClientCertificateHandshake connects with the transport's TLS
// settings to a TLS server that requires a client certificate signed by
// its CA, and checks the certificate presented is the one in
// KAFKA_TLS_CERT_FILE, re-read when it is renewed on disk.
func TestClientCertificateHandshake(t *testing.T) {
	p := newPKI(t)
	srvCert, srvKey := p.issue(t, "broker", true)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			if err := tc.Handshake(); err != nil {
				seen <- "handshake failed: " + err.Error()
			} else {
				seen <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
			}
			_ = c.Close()
		}
	}()

	certFile, keyFile := p.issueFiles(t, "client", "snotibridge-ingest", false)
	cfg := kafkaconf.Config{Brokers: []string{ln.Addr().String()}, TLSEnabled: true, TLSCAFile: p.CAFile, TLSCertFile: certFile, TLSKeyFile: keyFile}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	handshake := func(cfg kafkaconf.Config) (string, error) {
		t.Helper()
		tr, err := cfg.Transport()
		if err != nil {
			t.Fatal(err)
		}
		tlsCfg := tr.TLS.Clone()
		tlsCfg.ServerName = "127.0.0.1"
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := (&tls.Dialer{NetDialer: &net.Dialer{}, Config: tlsCfg}).DialContext(ctx, "tcp", ln.Addr().String())
		if err == nil {
			// TLS 1.3 reports a refused client certificate on the first read.
			_, err = conn.Read(make([]byte, 1))
			_ = conn.Close()
		}
		select {
		case cn := <-seen:
			return cn, nil
		case <-ctx.Done():
			return "", err
		}
	}
	if cn, err := handshake(cfg); cn != "snotibridge-ingest" {
		t.Fatalf("server saw %q (%v), want the client certificate snotibridge-ingest", cn, err)
	}

	// A renewed certificate, written over the old files, is presented by
	// the next connection of the same transport configuration.
	c, k := p.issue(t, "snotibridge-ingest-renewed", false)
	if err := os.WriteFile(certFile, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, k, 0o600); err != nil {
		t.Fatal(err)
	}
	if cn, err := handshake(cfg); cn != "snotibridge-ingest-renewed" {
		t.Fatalf("after renewal the server saw %q (%v), want snotibridge-ingest-renewed", cn, err)
	}

	// Without a certificate the server refuses the handshake.
	noCert := cfg
	noCert.TLSCertFile, noCert.TLSKeyFile = "", ""
	if cn, _ := handshake(noCert); !strings.HasPrefix(cn, "handshake failed") {
		t.Fatalf("without a client certificate the server saw %q, want a failed handshake", cn)
	}
}

// TestClientCertificateAgainstKafka runs a real broker whose TLS listener
// requires a client certificate signed by the test CA (Kafka reads the PEM
// files itself), writes and reads a record through it with
// KAFKA_TLS_CERT_FILE/KAFKA_TLS_KEY_FILE set, and checks that without them
// the broker refuses the connection.
func TestClientCertificateAgainstKafka(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own broker")
	}
	p := newPKI(t)
	srvCert, srvKey := p.issue(t, "broker", true)
	keystore := p.write(t, "broker-keystore.pem", append(srvKey, srvCert...))
	b := kafkatest.StartBrokerWithSSL(t, kafkatest.SSLListener{KeystoreFile: keystore, TruststoreFile: p.CAFile, ClientAuth: "required"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := "mtls-test"
	if err := kafkatest.CreateTopic(ctx, []string{b.Addr()}, topic, 1); err != nil {
		t.Fatal(err)
	}

	certFile, keyFile := p.issueFiles(t, "client", "snotibridge", false)
	cfg := kafkaconf.Config{Brokers: []string{b.SSLAddr()}, TLSEnabled: true, TLSCAFile: p.CAFile, TLSCertFile: certFile, TLSKeyFile: keyFile}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	w, err := cfg.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("did"), Value: []byte("over mTLS")}); err != nil {
		t.Fatalf("writing over mTLS: %v", err)
	}
	d, err := cfg.Dialer()
	if err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Addrs(), Topic: topic, Partition: 0, Dialer: d, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil || string(m.Value) != "over mTLS" {
		t.Fatalf("reading over mTLS: %q, %v", m.Value, err)
	}

	noCert := cfg
	noCert.TLSCertFile, noCert.TLSKeyFile = "", ""
	c, err := noCert.Client()
	if err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithTimeout(ctx, 20*time.Second)
	defer mcancel()
	if _, err := c.Metadata(mctx, &kafka.MetadataRequest{Topics: []string{topic}}); err == nil {
		t.Fatal("metadata without a client certificate succeeded; want the broker to refuse the handshake")
	}
}
