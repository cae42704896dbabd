package replay_test

import (
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

func TestDeviceTimeScan(t *testing.T) {
	at := func(s string) replay.Bound {
		b, err := replay.ParseBound(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name             string
		from, to         replay.Bound
		lateness         time.Duration
		wantFrom, wantTo string
		wantErr          bool
	}{
		{name: "times", from: at("2026-11-21T08:00:00Z"), to: at("2026-11-21T09:00:00Z"), lateness: 72 * time.Hour,
			wantFrom: "2026-11-21T07:55:00Z", wantTo: "2026-11-24T09:00:00Z"},
		{name: "open ends", from: replay.Earliest(), to: replay.Latest(), lateness: time.Hour, wantFrom: "earliest", wantTo: "latest"},
		{name: "unset", lateness: time.Hour},
		{name: "offset start", from: at("100"), to: replay.Latest(), wantErr: true},
		{name: "offsets end", from: replay.Earliest(), to: at("0=5"), wantErr: true},
		{name: "negative lateness", from: replay.Earliest(), lateness: -time.Second, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, err := replay.DeviceTimeScan(tt.from, tt.to, tt.lateness)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (from.String() != tt.wantFrom || to.String() != tt.wantTo) {
				t.Errorf("scan [%s, %s), want [%s, %s)", from, to, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

func TestDeviceTime(t *testing.T) {
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC)
	received := created.Add(6 * time.Hour)
	msg := func(r records.Record) kafka.Message {
		m, err := codec.Message("", []byte("d"), r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	noHeaders := msg(&records.DeviceTelemetry{EventID: "t2", DID: "d", Time: created, ReceivedAt: received})
	noHeaders.Headers = nil
	tests := []struct {
		name    string
		m       kafka.Message
		want    time.Time
		wantErr error
	}{
		{name: "event", m: msg(&records.SnotiEvent{EventID: "e", EventType: "attr_fault", DID: "d", CreatedAt: created, ReceivedAt: received, RawJSON: "{}"}), want: created},
		{name: "event without created_at", m: msg(&records.SnotiEvent{EventID: "e", EventType: "attr_fault", DID: "d", ReceivedAt: received, RawJSON: "{}"}), want: received},
		{name: "telemetry", m: msg(&records.DeviceTelemetry{EventID: "t", DID: "d", Time: created, ReceivedAt: received}), want: created},
		{name: "telemetry without headers", m: noHeaders, want: created},
		{name: "not a record", m: kafka.Message{Value: []byte("junk")}, wantErr: replay.ErrNoDeviceTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replay.DeviceTime(codec)(tt.m)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("time %s, want %s", got, tt.want)
			}
		})
	}
}
