package ingest_test

import (
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/ingest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// BenchmarkPushToRecord measures the ingest's CPU work per push: building
// the SnotiEvent (event id, typed fields) and encoding it as Avro.
func BenchmarkPushToRecord(b *testing.B) {
	raw := []byte(`{"cmd":"enterprise_event_push","delivery_id":123456,"event_type":"device_status_raw","product_key":"3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b","did":"simdev0000000000000001","mac":"a1b2c3d4e5f6","group_id":"","created_at":1700000000.123,"sim_seq":1,"data":{"raw":"AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA=="}}`)
	p := &snoti.Push{Raw: raw, DeliveryID: []byte("123456"), Event: &snoti.Event{EventType: "device_status_raw", ProductKey: "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b", DID: "simdev0000000000000001",
		MAC: "a1b2c3d4e5f6", CreatedAt: time.Unix(1700000000, 123e6), CreatedAtRaw: []byte("1700000000.123"),
		Data: &snoti.StatusRaw{Raw: make([]byte, 31)}, DataRaw: []byte(`{"raw":"AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA=="}`)}}
	codec, _ := records.NewCodec()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Message("t", []byte(p.DID), ingest.ToEvent(p, "v1", time.Now())); err != nil {
			b.Fatal(err)
		}
	}
}
