package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// redriveReport appends one JSON line per dead letter handled.
type redriveReport struct {
	f    *os.File
	enc  *json.Encoder
	dlq  string
	dest string
	err  error
}

// openReport opens the report for appending. It holds event ids, reasons
// and error texts, which may name devices and sinks: it is created 0600, and
// its folder, when missing, 0700, like the state files.
func openReport(path, dlq, dest string) (*redriveReport, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the redrive report's folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the redrive report: %w", err)
	}
	return &redriveReport{f: f, enc: json.NewEncoder(f), dlq: dlq, dest: dest}, nil
}

func (r *redriveReport) write(o replay.Outcome) {
	line := map[string]any{
		"at": time.Now().UTC(), "dlq_topic": r.dlq, "partition": o.Message.Partition, "offset": o.Message.Offset,
		"event_id": records.Header(o.Message, "event_id"), "reason": records.Header(o.Message, "reason"),
		"destination": r.dest, "result": o.Result,
	}
	if o.Err != nil {
		line["error"] = o.Err.Error()
	}
	if err := r.enc.Encode(line); err != nil && r.err == nil {
		r.err = fmt.Errorf("writing the redrive report: %w", err)
	}
}

func (r *redriveReport) close() error {
	if r.f == nil {
		return r.err
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("closing the redrive report: %w", err)
	}
	r.f = nil
	return r.err
}
