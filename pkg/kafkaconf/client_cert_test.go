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

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
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
