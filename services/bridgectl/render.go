package main

import (
	"encoding/json"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/records"
)

// jsonRecord is one record as a JSON line: where it is, its key and
// headers, and its value decoded from Avro with the schema version it was
// written with (Avro JSON: unions are tagged by type).
type jsonRecord struct {
	Topic     string            `json:"topic"`
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Time      time.Time         `json:"time"`
	Key       string            `json:"key,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Schema    string            `json:"schema,omitempty"`
	Value     json.RawMessage   `json:"value,omitempty"`
	Original  json.RawMessage   `json:"original,omitempty"` // a dead letter's record
	Error     string            `json:"error,omitempty"`
	RawValue  []byte            `json:"raw_value,omitempty"` // base64, when not decodable
}

// renderRecord renders m; withOriginal also decodes the record a
// DeadLetter holds.
func renderRecord(codec *records.Codec, m kafka.Message, withOriginal bool) ([]byte, error) {
	r := jsonRecord{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Time: m.Time.UTC(), Key: string(m.Key)}
	if len(m.Headers) > 0 {
		r.Headers = make(map[string]string, len(m.Headers))
		for _, h := range m.Headers {
			r.Headers[h.Key] = string(h.Value)
		}
	}
	s, js, err := codec.JSON(m.Value)
	if err != nil {
		r.Error = err.Error()
		r.RawValue = m.Value
	} else {
		r.Schema, r.Value = s.String(), js
	}
	if withOriginal && err == nil {
		var dl records.DeadLetter
		if codec.Unmarshal(m.Value, &dl) == nil && len(dl.Value) > 0 {
			if _, ojs, oerr := codec.JSON(dl.Value); oerr == nil {
				r.Original = ojs
			}
		}
	}
	return json.Marshal(r)
}
