package kafkaconf_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     kafkaconf.Config
		wantErr string
	}{
		{name: "local", cfg: kafkaconf.Config{Brokers: []string{"localhost:9092"}}},
		{name: "scram", cfg: kafkaconf.Config{Brokers: []string{"b:9096"}, TLSEnabled: true, SASLMechanism: "scram-sha-512", SASLUsername: "u", SASLPassword: "p"}},
		{name: "no port", cfg: kafkaconf.Config{Brokers: []string{"localhost"}}, wantErr: `Brokers entry "localhost": must be host:port`},
		{name: "empty", cfg: kafkaconf.Config{}, wantErr: "Brokers is empty"},
		{name: "bad mechanism", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, SASLMechanism: "gssapi"}, wantErr: `SASLMechanism="gssapi": must be plain`},
		{name: "missing password", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, TLSEnabled: true, SASLMechanism: "plain", SASLUsername: "u"}, wantErr: "needs SASLUsername and SASLPassword"},
		{name: "sasl without tls", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, SASLMechanism: "plain", SASLUsername: "u", SASLPassword: "p"},
			wantErr: `SASLMechanism="plain": without TLSEnabled=true: the credentials and every record would cross the network unencrypted; set TLSEnabled=true (and TLSCAFile for a private CA), or AllowInsecureSASL=true`},
		{name: "scram without tls", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, SASLMechanism: "scram-sha-256", SASLUsername: "u", SASLPassword: "p"}, wantErr: "AllowInsecureSASL=true"},
		{name: "sasl without tls, allowed", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, SASLMechanism: "plain", SASLUsername: "u", SASLPassword: "p", AllowInsecureSASL: true}},
		{name: "cert without key", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, TLSEnabled: true, TLSCertFile: "/c.pem"}, wantErr: "TLSCertFile and TLSKeyFile: set both"},
		{name: "key without cert", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, TLSEnabled: true, TLSKeyFile: "/k.pem"}, wantErr: "TLSCertFile and TLSKeyFile: set both"},
		{name: "cert without tls", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, TLSCertFile: "/c.pem", TLSKeyFile: "/k.pem"}, wantErr: "TLSCertFile is set but TLSEnabled is false"},
		{name: "unreadable cert", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, TLSEnabled: true, TLSCertFile: "/nonexistent.crt", TLSKeyFile: "/nonexistent.key"}, wantErr: `TLSCertFile="/nonexistent.crt": loading the client certificate with TLSKeyFile="/nonexistent.key"`},
		{name: "ca without tls", cfg: kafkaconf.Config{Brokers: []string{"b:1"}, TLSCAFile: "/nonexistent"}, wantErr: "TLSCAFile is set but TLSEnabled is false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewWriterDefaults(t *testing.T) {
	w, err := kafkaconf.Config{Brokers: []string{"localhost:9092"}}.NewWriter("t")
	if err != nil {
		t.Fatal(err)
	}
	if w.RequiredAcks != kafka.RequireAll {
		t.Errorf("RequiredAcks = %v, want RequireAll", w.RequiredAcks)
	}
	if _, ok := w.Balancer.(*kafka.Murmur2Balancer); !ok {
		t.Errorf("Balancer = %T, want *kafka.Murmur2Balancer", w.Balancer)
	}
	if w.AllowAutoTopicCreation {
		t.Error("AllowAutoTopicCreation must be false")
	}
	if w.BatchTimeout > time.Microsecond {
		t.Errorf("BatchTimeout = %v, want none to speak of: callers batch, a write is sent at once", w.BatchTimeout)
	}
	// kafka-go gives every partition's batch of every write a slice of
	// BatchSize messages: above 32 KiB that is a large object, zeroed and
	// allocated from the heap for each write.
	if size := uintptr(w.BatchSize) * unsafe.Sizeof(kafka.Message{}); size > 32<<10 {
		t.Errorf("BatchSize = %d: %d B per partition and write, want at most 32 KiB", w.BatchSize, size)
	}
}

// Every writer's Snappy goes through kafka-go's codec in S2's fast mode
// (kafkaconf's init), and what it writes reads back.
func TestSnappyIsTheFastMode(t *testing.T) {
	data := bytes.Repeat([]byte(`{"cmd":"event_push","delivery_id":7,"event_type":"device_status_raw","data":{"raw":"AAAAAwcAAJEEAQID"}}`), 50)
	var framed bytes.Buffer
	w := kafka.Snappy.Codec().NewWriter(&framed)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fast, better := s2.EncodeSnappy(nil, data), s2.EncodeSnappyBetter(nil, data)
	if bytes.Equal(fast, better) {
		t.Fatal("the sample compresses alike in both modes; it cannot tell them apart")
	}
	if !bytes.Contains(framed.Bytes(), fast) {
		t.Errorf("the writers' Snappy block is not S2's fast mode's (%d bytes framed; fast %d, better %d)", framed.Len(), len(fast), len(better))
	}
	back, err := io.ReadAll(kafka.Snappy.Codec().NewReader(&framed))
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("read back %d bytes (%v), want the %d written", len(back), err, len(data))
	}
}
