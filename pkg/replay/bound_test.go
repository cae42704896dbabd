package replay_test

import (
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

func TestParseBound(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		isTime  bool
		wantErr bool
	}{
		{name: "empty", in: "", want: ""},
		{name: "earliest", in: "earliest", want: "earliest"},
		{name: "now", in: "now", want: "latest"},
		{name: "time", in: "2026-11-21T08:00:00+01:00", want: "2026-11-21T07:00:00Z", isTime: true},
		{name: "offset", in: "1200", want: "1200"},
		{name: "per partition", in: "3=77, 0=1200", want: "0=1200,3=77"},
		{name: "negative", in: "-5", wantErr: true},
		{name: "bad pair", in: "0=x", wantErr: true},
		{name: "words", in: "yesterday", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := replay.ParseBound(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBound(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if b.String() != tt.want {
				t.Errorf("String() = %q, want %q", b.String(), tt.want)
			}
			if _, ok := b.Time(); ok != tt.isTime {
				t.Errorf("Time() ok = %v, want %v", ok, tt.isTime)
			}
			back, err := replay.ParseBound(b.String())
			if err != nil || back.String() != b.String() {
				t.Errorf("round trip %q → %q (%v)", b.String(), back.String(), err)
			}
		})
	}
	if tm, _ := replay.AtTime(time.Unix(0, 0)).Time(); !tm.Equal(time.Unix(0, 0)) {
		t.Error("AtTime lost its time")
	}
}
