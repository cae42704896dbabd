package records_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/avro"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/schemas"
)

var update = flag.Bool("update", false, "write golden files for schema versions that have none")

func ptr[T any](v T) *T { return &v }

var (
	t0 = time.UnixMilli(1700000000123).UTC()
	t1 = time.UnixMilli(1700000001456).UTC()
)

// samples holds one fully populated record of each type.
func samples() []records.Record {
	return []records.Record{
		&records.SnotiEvent{
			EventID: "e1", EventType: "device_online", ProductKey: "pk", DID: "did1", MAC: "a0b1", GroupID: ptr("g"),
			CreatedAt: t0, ReceivedAt: t1, Protocol: "v2", DeliveryID: "18446744073709551615", MsgID: ptr(`"m-1"`),
			Online:     &records.OnlineInfo{IP: "1.2.3.4", Country: "CN", Region: "GD", City: "GZ", Latitude: ptr(23.1), ICCID: ptr("8986")},
			Attributes: map[string]string{"uid": "u1"},
			RawJSON:    `{"cmd":"event_push"}`,
		},
		&records.SnotiEvent{
			EventID: "e2", EventType: "attr_fault", ProductKey: "pk", DID: "did1", CreatedAt: t0, ReceivedAt: t1,
			Protocol: "v1", DeliveryID: `"abc"`, GizwitsEventID: ptr("ge"),
			Attr:    &records.AttrEvent{Name: "fault_relay", DisplayName: "Relay", Value: 1},
			RawJSON: "{}",
		},
		&records.SnotiEvent{
			EventID: "e3", EventType: "device_status_raw", CreatedAt: t0, ReceivedAt: t1, Protocol: "v1", DeliveryID: "7",
			Raw: []byte{0, 0, 0, 3, 7, 0, 0, 0x91, 4, 1, 2, 3}, RawJSON: "{}",
		},
		&records.SnotiEvent{
			EventID: "e4", EventType: "device_status_kv", CreatedAt: t0, ReceivedAt: t1, Protocol: "v2", DeliveryID: "8",
			KV: map[string]any{"on": int64(1), "mode": "auto", "temp": 21.5, "nothing": nil, "ok": true}, RawJSON: "{}",
		},
		&records.DeviceTelemetry{
			EventID: "e3", ProductKey: "pk", DID: "did1", MAC: "m", Time: t0, ReceivedAt: t1, Source: "device_status_raw",
			Codec: "gizwits-standard", Kind: "status_report",
			Points: []records.DataPoint{{"charge_enable", true}, {"current_limit", int64(16)}, {"voltage", 230.5}, {"mode", "manual"}, {"x", nil}},
		},
		&records.DeadLetter{
			Stage: "decoder", Reason: "no_codec", Error: "no codec for product pk", Attempts: 1, FailedAt: t1,
			EventID: ptr("e3"), SourceTopic: ptr("snoti.events.v1"), SourcePartition: 2, SourceOffset: 42,
			Key: []byte("did1"), Value: []byte{0xc3, 0x01, 9}, Headers: map[string]string{"product_key": "pk"},
		},
		&records.DeviceCommand{
			CommandID: "c1", ProductKey: "pk", DID: "did1", MAC: "m", Kind: records.CommandWriteAttrs,
			Attrs:       []records.DataPoint{{"charge_enable", true}, {"current_limit", int64(16)}, {"ratio", 0.5}, {"mode", "eco"}, {"session_id", []byte{1, 2}}, {"x", nil}},
			RequestedAt: t0, ExpiresAt: ptr(t1), Requester: "ops",
		},
		&records.DeviceCommand{CommandID: "c2", ProductKey: "pk", DID: "did1", Kind: records.CommandWrite, Raw: []byte{0x05, 1}, RequestedAt: t0},
		&records.CommandResult{
			CommandID: "c1", ProductKey: "pk", DID: "did1", Status: records.CommandFailed, Reason: "device offline", Path: "snoti",
			RequestedAt: t0, SentAt: ptr(t0), AnsweredAt: t1, Requester: "ops",
		},
		&records.CommandResult{CommandID: "c2", Status: records.CommandExpired, RequestedAt: t0, AnsweredAt: t1},
	}
}

func newOf(r records.Record) records.Record {
	return reflect.New(reflect.TypeOf(r).Elem()).Interface().(records.Record)
}

func TestRoundTrip(t *testing.T) {
	c, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range samples() {
		t.Run(want.SchemaName(), func(t *testing.T) {
			b, err := c.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != 0xC3 || b[1] != 0x01 {
				t.Fatalf("not single-object encoded: % x", b[:2])
			}
			got := newOf(want)
			if err := c.Unmarshal(b, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	c, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	tel, _ := c.Marshal(samples()[4])
	tests := []struct {
		name    string
		b       []byte
		wantErr error
	}{
		{name: "not SOE", b: []byte("{}")},
		{name: "unknown fingerprint", b: []byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0}, wantErr: avro.ErrUnknownSchema},
		{name: "truncated", b: tel[:len(tel)-3]},
		{name: "wrong type", b: tel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Unmarshal(tt.b, &records.SnotiEvent{})
			if err == nil {
				t.Fatal("Unmarshal succeeded, want error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMessageHeaders(t *testing.T) {
	c, _ := records.NewCodec()
	m, err := c.Message("snoti.events.v1", []byte("did1"), samples()[0])
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"event_type": "device_online", "product_key": "pk", "event_id": "e1", "schema": "SnotiEvent.v1"} {
		if got := records.Header(m, k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

// TestEverySchemaVersionDecodes decodes a record written with every schema
// version ever committed. A new version needs its golden file: run
// go test ./records -run TestEverySchemaVersionDecodes -update.
func TestEverySchemaVersionDecodes(t *testing.T) {
	c, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	all, err := schemas.All()
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]int{}
	for _, s := range all {
		if s.Version > current[s.Name] {
			current[s.Name] = s.Version
		}
	}
	for _, s := range all {
		path := filepath.Join("testdata", "golden", s.Name+".v"+strconv.Itoa(s.Version)+".avro")
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) && *update && s.Version == current[s.Name] {
			for _, r := range samples() {
				if r.SchemaName() == s.Name {
					if b, err = c.Marshal(r); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, b, 0o644); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
		} else if err != nil {
			t.Fatalf("%s: %v (generate with -update)", path, err)
		}
		var r records.Record
		for _, sample := range samples() {
			if sample.SchemaName() == s.Name {
				r = newOf(sample)
			}
		}
		if err := c.Unmarshal(b, r); err != nil {
			t.Errorf("%s written with %s no longer decodes: %v", path, s.File, err)
		}
	}
}

// TestUnmarshalSnotiEventOfOtherRecords: UnmarshalSnotiEvent refuses what
// Unmarshal refuses, and decodes every schema version Unmarshal does.
func TestUnmarshalSnotiEventOfOtherRecords(t *testing.T) {
	c, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	var inputs [][]byte
	for _, r := range samples() {
		b, err := c.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "SnotiEvent.v*.avro"))
	if len(golden) == 0 {
		t.Fatal("no SnotiEvent golden files")
	}
	for _, path := range golden {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	for i, b := range inputs {
		var typed, generic records.SnotiEvent
		errTyped, errGeneric := c.UnmarshalSnotiEvent(b, &typed), c.Unmarshal(b, &generic)
		if fmt.Sprint(errTyped) != fmt.Sprint(errGeneric) || !reflect.DeepEqual(typed, generic) {
			t.Fatalf("input %d: UnmarshalSnotiEvent %+v, %v; Unmarshal %+v, %v", i, typed, errTyped, generic, errGeneric)
		}
	}
}
