package replay_test

import (
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

func TestFilter(t *testing.T) {
	m := kafka.Message{Key: []byte("dev1"), Headers: []kafka.Header{
		{Key: "product_key", Value: []byte("pk1")}, {Key: "reason", Value: []byte("no_mapping")},
	}}
	tests := []struct {
		name    string
		filter  string
		want    bool
		wantErr bool
	}{
		{name: "empty matches all", filter: "", want: true},
		{name: "did", filter: "did=dev1", want: true},
		{name: "key alias", filter: "key=dev1", want: true},
		{name: "alternatives", filter: "did=dev9,did=dev1", want: true},
		{name: "all fields must hold", filter: "did=dev1,product_key=pk2", want: false},
		{name: "header", filter: "product_key=pk1,reason=no_mapping", want: true},
		{name: "missing header", filter: "event_type=x", want: false},
		{name: "no equals", filter: "did", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := replay.ParseFilter(tt.filter)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFilter(%q) error %v", tt.filter, err)
			}
			if err == nil && f.Match(m) != tt.want {
				t.Errorf("Match = %v, want %v", !tt.want, tt.want)
			}
		})
	}
	a, _ := replay.ParseFilter("did=b,product_key=p,did=a")
	b, _ := replay.ParseFilter("product_key=p,did=a,did=b")
	if a.String() != b.String() {
		t.Errorf("canonical forms differ: %q vs %q", a, b)
	}
}
