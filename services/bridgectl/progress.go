package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

// progress reports a running replay on stderr: a bar redrawn in place on a
// terminal (records, rate, ETA), plain lines every interval otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration
	get   func() (replay.Summary, int64)
	start time.Time
	done  chan struct{}
	stop  context.CancelFunc
}

// startProgress begins reporting until the returned progress is finished.
func (a *app) startProgress(ctx context.Context, get func() (replay.Summary, int64)) *progress {
	ctx, cancel := context.WithCancel(ctx)
	p := &progress{w: a.errw, tty: a.tty, every: a.progressEvery, get: get, start: time.Now(), done: make(chan struct{}), stop: cancel}
	go p.run(ctx)
	return p
}

func (p *progress) run(ctx context.Context) {
	defer close(p.done)
	every := p.every
	if p.tty {
		every = 200 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.print()
		}
	}
}

// finish stops reporting and ends the bar's line.
func (p *progress) finish() {
	p.stop()
	<-p.done
	if p.tty {
		p.print()
		fmt.Fprintln(p.w)
	}
}

func (p *progress) print() {
	s, total := p.get()
	n := s.Finished()
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed
	}
	eta := "?"
	if rate > 0 && total >= n {
		eta = (time.Duration(float64(total-n)/rate) * time.Second).Round(time.Second).String()
	}
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(n) / float64(total)
	}
	if !p.tty {
		fmt.Fprintf(p.w, "progress: %d/%d records (%.0f%%), %.0f/s, ETA %s; %s\n", n, total, pct, rate, eta, s)
		return
	}
	const width = 30
	filled := min(width, int(pct/100*width))
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	fmt.Fprintf(p.w, "\r[%s] %d/%d %3.0f%% %.0f/s ETA %s  sent %d dlq %d skip %d   ",
		bar, n, total, pct, rate, eta, s.Sent+s.Matched, s.DeadLettered, s.Skipped)
}
