package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestProgressOutput(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		want []string
	}{
		{name: "terminal bar", tty: true, want: []string{"\r[", "50/100", " 50%", "ETA"}},
		{name: "plain line", tty: false, want: []string{"progress: 50/100 records (50%)", "ETA", "sent 40"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf testkit.SyncBuffer
			a := &app{errw: &buf, tty: tt.tty, progressEvery: time.Hour}
			p := a.startProgress(context.Background(), func() (replay.Summary, int64) {
				return replay.Summary{Sent: 40, Skipped: 10}, 100
			})
			p.print()
			p.finish()
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output %q lacks %q", buf.String(), w)
				}
			}
			if !tt.tty && strings.Contains(buf.String(), "\r") {
				t.Error("plain output holds a carriage return")
			}
		})
	}
}
