package avro_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/avro"
)

func deadLetter() map[string]any {
	return map[string]any{
		"stage": "ingest", "reason": "invalid_json", "error": "unexpected end of JSON input",
		"attempts": int32(1), "failed_at": time.UnixMilli(1700000000000), "event_id": nil,
		"source_topic": nil, "source_partition": int32(-1), "source_offset": int64(-1),
		"key": nil, "value": []byte("{not json"), "headers": map[string]any{},
	}
}

func TestEncodeDecode(t *testing.T) {
	r, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Encode(nil, "DeadLetter", deadLetter())
	if err != nil {
		t.Fatal(err)
	}
	s, m, err := r.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "DeadLetter.v1" || m["reason"] != "invalid_json" || string(m["value"].([]byte)) != "{not json" {
		t.Errorf("decoded %s %v", s, m)
	}
	_, js, err := r.JSON(b)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil || doc["reason"] != "invalid_json" {
		t.Errorf("JSON %s: %v", js, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	r, _ := avro.New()
	good, _ := r.Encode(nil, "DeadLetter", deadLetter())
	hugeCount := append(append([]byte{}, good[:10]...), 0xfe, 0xff, 0xff, 0xff, 0x0f) // stage length 2^31-ish
	tests := []struct {
		name    string
		b       []byte
		wantErr string
		is      error
	}{
		{name: "empty", b: nil, wantErr: "decoding record"},
		{name: "unknown fingerprint", b: []byte{0xC3, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}, is: avro.ErrUnknownSchema},
		{name: "trailing bytes", b: append(append([]byte{}, good...), 0), wantErr: "trailing"},
		{name: "length beyond block limit", b: hugeCount, wantErr: "DeadLetter.v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := r.Decode(tt.b)
			if err == nil {
				t.Fatal("Decode succeeded, want error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}
