package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// output writes each progress line to stdout and to a log file. The first
// failed write to stdout (EPIPE once `make run | tee` has gone, EIO once the
// terminal has) turns stdout off for good; the file keeps every line, so
// the supervisor carries on, and stops the stack in order, regardless.
type output struct {
	mu     sync.Mutex
	stdout io.Writer
	file   *os.File
	broken bool
}

func newOutput(stdout io.Writer, path string) (*output, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the run log: %w", err)
	}
	return &output{stdout: stdout, file: f}, nil
}

// say writes one time-stamped line.
func (o *output) say(format string, args ...any) {
	line := time.Now().Format("15:04:05") + " " + fmt.Sprintf(format, args...) + "\n"
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.broken {
		if _, err := io.WriteString(o.stdout, line); err != nil {
			o.broken = true
			_, _ = fmt.Fprintf(o.file, "%s stdout closed (%v): progress continues here only\n", time.Now().Format("15:04:05"), err)
		}
	}
	_, _ = o.file.WriteString(line)
}

func (o *output) close() { _ = o.file.Close() }
