package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// progress draws the live table (see renderTable) from the services'
// /metrics, the emulators' /sim/ stats and the services' logs (the last
// error), and prints where to look next when the run starts and ends.
type progress struct {
	s      *supervisor
	client *http.Client
	last   map[string]float64
	at     time.Time
}

// newProgress prints the guide and has it printed again when the output
// closes, after everything stopped.
func newProgress(s *supervisor) *progress {
	p := &progress{s: s, client: &http.Client{Timeout: 2 * time.Second}, last: map[string]float64{}}
	p.s.out.lines(p.guide())
	p.s.out.atClose(func() { p.s.out.lines(p.guide()) })
	return p
}

// stage is a row of the table: the service whose /metrics and log it
// reads, and the consumer stage label of its records (none for ingest).
type stage struct{ row, service, label string }

var stages = []stage{
	{"ingest", "ingest", ""},
	{"decoder", "decoder", "decoder"},
	{"enos-forwarder", "enos-forwarder", "enos"},
	{"energisme-forwarder", "energisme-forwarder", "energisme"},
	{"energisme-files", "energisme-forwarder", "energisme-files"},
}

func (p *progress) report() {
	p.s.out.table(func(width int) []string { return renderTable(p.snapshot(), width) })
}

// snapshot gathers one report's numbers.
func (p *progress) snapshot() snapshot {
	now := time.Now()
	elapsed := time.Duration(0)
	if !p.at.IsZero() {
		elapsed = now.Sub(p.at)
	}
	p.at = now
	snap := snapshot{at: now}
	fams := map[string]map[string]*dto.MetricFamily{}
	for _, st := range stages {
		if _, ok := fams[st.service]; !ok {
			fams[st.service] = p.metrics(st.service)
		}
		m := fams[st.service]
		row := stageRow{name: st.row, up: m != nil, rate: math.NaN(), lastErr: p.lastError(st)}
		if m == nil {
			snap.stages = append(snap.stages, row)
			continue
		}
		if st.label == "" { // the ingest: deliveries ACKed after Kafka
			row.total = sum(m, "ingest_acks_total", "", "")
			row.lag = -1
			row.retries = sum(m, "ingest_write_errors_total", "", "")
			row.dlq = sum(m, "ingest_invalid_lines_total", "", "")
		} else {
			row.total = sum(m, "snotibridge_consumer_messages_total", "stage", st.label)
			row.lag = sum(m, "snotibridge_consumer_lag", "stage", st.label)
			row.retries = sum(m, "snotibridge_consumer_retries_total", "stage", st.label)
			row.dlq = sum(m, "snotibridge_consumer_dead_letters_total", "stage", st.label)
		}
		row.rate = p.rate(st.row, row.total, elapsed)
		snap.stages = append(snap.stages, row)
	}
	enos, enosUp := p.simStats("enos")
	snap.sims = append(snap.sims, simRow{name: "enos-sim", up: enosUp, counts: []simCount{
		{"points", enos["points"]}, {"events", enos["events"]}, {"rejected", enos["rejected"]},
	}})
	en, enUp := p.simStats("energisme")
	snap.sims = append(snap.sims, simRow{name: "energisme-sim", up: enUp, counts: []simCount{
		{"uplinks", en["accepted"]}, {"rejected", en["rejected"]}, {"files", float64(p.sftpFiles())},
	}})
	return snap
}

// metrics reads a service's /metrics (nil when it does not answer).
func (p *progress) metrics(service string) map[string]*dto.MetricFamily {
	resp, err := p.client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.s.ports.HTTP[service]))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, 8<<20))
	if err != nil && len(fams) == 0 {
		return nil
	}
	return fams
}

// sum adds the samples of a counter or gauge whose label is value (every
// sample when label is "").
func sum(fams map[string]*dto.MetricFamily, name, label, value string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		if label != "" {
			match := false
			for _, l := range m.GetLabel() {
				match = match || (l.GetName() == label && l.GetValue() == value)
			}
			if !match {
				continue
			}
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// rate is the per-second change of key since the last report (NaN at the
// first).
func (p *progress) rate(key string, v float64, elapsed time.Duration) float64 {
	prev, ok := p.last[key]
	p.last[key] = v
	if !ok || elapsed <= 0 {
		return math.NaN()
	}
	return (v - prev) / elapsed.Seconds()
}

// simStats is an emulator's /sim/<name>/stats.
func (p *progress) simStats(name string) (map[string]float64, bool) {
	resp, err := p.client.Get(fmt.Sprintf("http://127.0.0.1:%d/sim/%s/stats", p.s.ports.Sink, name))
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var out map[string]float64
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return nil, false
	}
	return out, true
}

// sftpFiles counts the files the SFTP emulator holds.
func (p *progress) sftpFiles() int {
	files := 0
	_ = filepath.WalkDir(filepath.Join(p.s.cfg.runDir, "sink-sim", "sftp"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			files++
		}
		return nil
	})
	return files
}

// lastError is the error of the newest warning or error in the stage's
// service log (JSON lines; the tail only), "" when there is none. The
// energisme-forwarder's log holds two rows: the file part logs with part
// "files" or component "energisme-files".
func (p *progress) lastError(st stage) string {
	f, err := os.Open(filepath.Join(p.s.cfg.runDir, "logs", st.service+".log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 256 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(fi.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, tail))
	return lastLogError(b, st.service == "energisme-forwarder", st.label == "energisme-files")
}

// lastLogError finds the newest warn or error line of JSON log lines b.
// With split, only lines of the file part (files true) or only the others
// count.
func lastLogError(b []byte, split, files bool) string {
	lines := bytes.Split(b, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		if !bytes.Contains(line, []byte(`"level":"warn"`)) && !bytes.Contains(line, []byte(`"level":"error"`)) {
			continue
		}
		var e struct {
			Error     string `json:"error"`
			Message   string `json:"message"`
			Part      string `json:"part"`
			Component string `json:"component"`
		}
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		if split && (e.Part == "files" || e.Component == "energisme-files") != files {
			continue
		}
		if e.Error != "" {
			return e.Error
		}
		return e.Message
	}
	return ""
}

// guide is where to look next: metrics, the emulators, bridgectl. Each
// line fits 80 columns with the time stamp of a piped line.
func (p *progress) guide() []string {
	port, h := p.s.ports, p.s.ports.HTTP
	return []string{
		"Where to look next:",
		fmt.Sprintf("  metrics    http://127.0.0.1:%d/metrics ingest, :%d decoder,", h["ingest"], h["decoder"]),
		fmt.Sprintf("             :%d enos-forwarder, :%d energisme-forwarder", h["enos-forwarder"], h["energisme-forwarder"]),
		fmt.Sprintf("  sink-sim   http://127.0.0.1:%d/sim/enos/stats, /sim/enos/points,", port.Sink),
		"             /sim/energisme/stats, /sim/energisme/uplinks,",
		"             /sim/sftp/ops",
		fmt.Sprintf("  snoti-sim  http://127.0.0.1:%d/sim/ledger, /sim/faults", port.SimControl),
		"  files      " + p.s.rel(filepath.Join(p.s.cfg.runDir, "sink-sim", "sftp")),
		"  logs       " + p.s.rel(filepath.Join(p.s.cfg.runDir, "logs")),
		fmt.Sprintf("  records    export KAFKA_BROKERS=127.0.0.1:%d, then", p.s.cfg.kafkaPort),
		"             bin/bridgectl tail --topic device.telemetry.v1",
		"             bin/bridgectl dlq list --topic decoder.dlq.v1",
		"             bin/bridgectl offsets show --group enos",
	}
}
