package records_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/avro"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/schemas"
)

// idTable is a SchemaRegistry of fixed ids, for the framing logic alone;
// pkg/schemaregistry's tests run the same paths against a real registry.
type idTable struct {
	ids   map[string]int // topic/name
	texts map[int]string
	calls int
}

func (r *idTable) SchemaID(topic, name string) (int, bool) {
	id, ok := r.ids[topic+"/"+name]
	return id, ok
}

func (r *idTable) SchemaText(_ context.Context, id int) (string, error) {
	r.calls++
	t, ok := r.texts[id]
	if !ok {
		return "", errors.New("no such id")
	}
	return t, nil
}

func schemaText(t *testing.T, name string) string {
	t.Helper()
	all, err := schemas.All()
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for _, s := range all {
		if s.Name == name {
			text = s.JSON // the last is the current version
		}
	}
	return text
}

func TestConfluentFraming(t *testing.T) {
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	tel := &records.DeviceTelemetry{EventID: "e1", ProductKey: "pk", DID: "d1", Time: at, ReceivedAt: at, Source: "device_status_raw",
		Codec: "standard", Kind: "status_report", Points: []records.DataPoint{{Name: "v", Value: 1.5}, {Name: "s", Value: "x"}}}
	ev := &records.SnotiEvent{EventID: "e2", EventType: "device_online", ProductKey: "pk", DID: "d1", CreatedAt: at, ReceivedAt: at, Protocol: "v1", DeliveryID: "1", RawJSON: "{}"}
	// A writer's schema that is none of ours: DeviceTelemetry with
	// only some of the fields, as another producer might register.
	foreign := `{"type":"record","name":"DeviceTelemetry","namespace":"other","fields":[{"name":"event_id","type":"string"}]}`
	reg := &idTable{
		ids:   map[string]int{"tel/DeviceTelemetry": 7, "ev/SnotiEvent": 8},
		texts: map[int]string{7: schemaText(t, "DeviceTelemetry"), 8: schemaText(t, "SnotiEvent"), 9: foreign},
	}
	sc := codec.WithSchemaRegistry(reg)

	m, err := sc.Message("tel", nil, tel)
	if err != nil {
		t.Fatal(err)
	}
	soe, err := codec.Message("tel", nil, tel)
	if err != nil {
		t.Fatal(err)
	}
	if m.Value[0] != 0 || binary.BigEndian.Uint32(m.Value[1:5]) != 7 || string(m.Value[5:]) != string(soe.Value[10:]) {
		t.Fatalf("framed value % x, want 00 00000007 then the single-object body % x", m.Value, soe.Value[10:])
	}
	if records.Header(m, "schema") != "DeviceTelemetry.v1" {
		t.Errorf("schema header %q", records.Header(m, "schema"))
	}
	if un, _ := sc.Message("elsewhere", nil, tel); un.Value[0] != 0xC3 {
		t.Errorf("a topic without an id got % x, want single-object encoding", un.Value[:2])
	}
	em, err := sc.Message("ev", nil, ev)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		value   []byte
		into    records.Record
		wantErr string
	}{
		{name: "framed telemetry", value: m.Value, into: &records.DeviceTelemetry{}},
		{name: "framed event", value: em.Value, into: &records.SnotiEvent{}},
		{name: "single-object telemetry", value: soe.Value, into: &records.DeviceTelemetry{}},
		{name: "framed telemetry read as an event", value: m.Value, into: &records.SnotiEvent{}, wantErr: "record is a DeviceTelemetry.v1"},
		{name: "unknown id", value: append([]byte{0, 0, 0, 0, 42}, m.Value[5:]...), into: &records.DeviceTelemetry{}, wantErr: "schema id 42"},
		{name: "truncated body", value: m.Value[:len(m.Value)-3], into: &records.DeviceTelemetry{}, wantErr: "decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sc.Unmarshal(tt.value, tt.into)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Unmarshal: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch r := tt.into.(type) {
			case *records.DeviceTelemetry:
				if r.DID != "d1" || !r.Time.Equal(at) || len(r.Points) != 2 || r.Points[0].Value != 1.5 {
					t.Errorf("read %+v", r)
				}
			case *records.SnotiEvent:
				if r.EventID != "e2" || r.EventType != "device_online" {
					t.Errorf("read %+v", r)
				}
			}
		})
	}

	calls := reg.calls
	if err := sc.Unmarshal(m.Value, &records.DeviceTelemetry{}); err != nil || reg.calls != calls {
		t.Errorf("second read of id 7: %v, %d fetches (want none: cached)", err, reg.calls-calls)
	}
	if err := codec.Unmarshal(m.Value, &records.DeviceTelemetry{}); err == nil || !strings.Contains(err.Error(), "SCHEMA_REGISTRY_URL") {
		t.Errorf("codec without a registry: %v, want an error naming SCHEMA_REGISTRY_URL", err)
	}
	s, js, err := sc.JSON(m.Value)
	if err != nil || s.String() != "DeviceTelemetry.v1" || !strings.Contains(string(js), `"did":"d1"`) {
		t.Errorf("JSON: %s %s %v", s, js, err)
	}

	// A foreign writer schema (none of our versions) would lose fields
	// without schema resolution: refused as an unknown schema; JSON, for
	// tools, renders it with its own schema.
	body := []byte{0, 0, 0, 0, 9, 4, 'e', '9'}
	err = sc.Unmarshal(body, &records.DeviceTelemetry{})
	if !errors.Is(err, avro.ErrUnknownSchema) || !strings.Contains(err.Error(), "schema id 9") {
		t.Errorf("foreign schema: %v, want ErrUnknownSchema naming id 9", err)
	}
	if s, js, err := sc.JSON(body); err != nil || s.Name != "DeviceTelemetry" || string(js) != `{"event_id":"e9"}` {
		t.Errorf("JSON of a foreign record: %s %s %v", s, js, err)
	}
}
