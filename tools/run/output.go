package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// output writes the supervisor's lines to stdout and to a log file. The
// first failed write to stdout (EPIPE once `make run | tee` has gone, EIO
// once the terminal has) turns stdout off for good; the file keeps every
// line, so the supervisor carries on, and stops the stack in order,
// regardless.
//
// On a terminal the progress table is redrawn in place: the previous one
// is erased (cursor up, clear line, once per line) and drawn again, and an
// event line (say) is written above the table, which is then drawn again
// below it. Piped, and in the file, every line is a plain time-stamped
// line.
type output struct {
	mu     sync.Mutex
	stdout io.Writer
	file   *os.File
	broken bool
	tty    bool
	width  func() int // the terminal's columns (tty only)
	drawn  []string   // the table on screen (tty only)
	closer []func()
}

func newOutput(stdout io.Writer, path string) (*output, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the run log: %w", err)
	}
	o := &output{stdout: stdout, file: f, width: func() int { return maxWidth }}
	if t, ok := stdout.(*os.File); ok && term.IsTerminal(int(t.Fd())) {
		o.tty = true
		o.width = func() int {
			if w, _, err := term.GetSize(int(t.Fd())); err == nil && w > 0 {
				return min(w, maxWidth)
			}
			return maxWidth
		}
	}
	return o, nil
}

// stamp is the prefix of a plain line.
func stamp() string { return time.Now().Format("15:04:05") + " " }

// say writes one time-stamped event line.
func (o *output) say(format string, args ...any) {
	line := stamp() + fmt.Sprintf(format, args...)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writeLocked(o.eraseLocked() + line + "\n" + strings.Join(o.drawn, "\n") + nl(o.drawn))
	_, _ = o.file.WriteString(line + "\n")
}

// lines writes a block of lines (the guide): on a terminal as they are,
// above the table; piped, time-stamped.
func (o *output) lines(ls []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	at := stamp()
	for _, l := range ls {
		_, _ = o.file.WriteString(at + l + "\n")
		if !o.tty {
			b.WriteString(at)
		}
		b.WriteString(l + "\n")
	}
	o.writeLocked(o.eraseLocked() + b.String() + strings.Join(o.drawn, "\n") + nl(o.drawn))
}

// table draws the progress table that render returns for a width: on a
// terminal in place of the previous one, at the terminal's width (80 at
// most); piped, as time-stamped lines that fit 80 columns with the stamp.
func (o *output) table(render func(width int) []string) {
	at := stamp()
	width := maxWidth - len(at)
	if o.tty {
		width = o.width()
	}
	ls := render(width)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range ls {
		_, _ = o.file.WriteString(at + l + "\n")
	}
	if !o.tty {
		var b strings.Builder
		for _, l := range ls {
			b.WriteString(at + l + "\n")
		}
		o.writeLocked(b.String())
		return
	}
	erase := o.eraseLocked()
	o.drawn = ls
	o.writeLocked(erase + strings.Join(ls, "\n") + nl(ls))
}

// eraseLocked returns what erases the table on screen ("" when none).
func (o *output) eraseLocked() string {
	if !o.tty || len(o.drawn) == 0 {
		return ""
	}
	return strings.Repeat("\x1b[1A\x1b[2K", len(o.drawn)) + "\r"
}

func (o *output) writeLocked(s string) {
	if o.broken || s == "" {
		return
	}
	if _, err := io.WriteString(o.stdout, s); err != nil {
		o.broken = true
		_, _ = fmt.Fprintf(o.file, "%sstdout closed (%v): progress continues here only\n", stamp(), err)
	}
}

func nl(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return "\n"
}

// atClose has f called when the output closes (the run's last words).
func (o *output) atClose(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closer = append(o.closer, f)
}

func (o *output) close() {
	o.mu.Lock()
	fs := o.closer
	o.closer = nil
	o.drawn = nil // the last table stays on screen; the last words go below
	o.mu.Unlock()
	for _, f := range fs {
		f()
	}
	_ = o.file.Close()
}
