package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// progress prints one line per stage from the services' /metrics and the
// emulators' /sim/ stats.
type progress struct {
	s      *supervisor
	client *http.Client
	last   map[string]float64
	at     time.Time
}

func newProgress(s *supervisor) *progress {
	return &progress{s: s, client: &http.Client{Timeout: 2 * time.Second}, last: map[string]float64{}}
}

// metrics sums every sample of each named metric of a service ("?" when
// the service does not answer).
func (p *progress) metrics(service string) map[string]float64 {
	resp, err := p.client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.s.ports.http[service]))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = line[:i]
			if j := strings.LastIndexByte(line, '}'); j >= 0 {
				rest = strings.TrimSpace(line[j+1:])
			}
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[name] += v
		}
	}
	return out
}

// rate is the per-second change of key since the last report.
func (p *progress) rate(key string, v float64, elapsed time.Duration) string {
	prev, ok := p.last[key]
	p.last[key] = v
	if !ok || elapsed <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", (v-prev)/elapsed.Seconds())
}

func (p *progress) report() {
	now := time.Now()
	elapsed := time.Duration(0)
	if !p.at.IsZero() {
		elapsed = now.Sub(p.at)
	}
	p.at = now
	port := p.s.ports.http
	if m := p.metrics("ingest"); m != nil {
		pushed, acked := p.rate("pushed", m["snoti_pushes_total"], elapsed), p.rate("acked", m["ingest_acks_total"], elapsed)
		p.s.out.say("%-20s pushes %s/s, ACKed after Kafka %s/s (total %.0f), invalid lines %.0f  http://127.0.0.1:%d/metrics",
			"ingest", pushed, acked, m["ingest_acks_total"], m["ingest_invalid_lines_total"], port["ingest"])
	} else {
		p.s.out.say("%-20s not answering on http://127.0.0.1:%d/metrics", "ingest", port["ingest"])
	}
	for _, n := range []string{"decoder", "enos-forwarder", "energisme-forwarder"} {
		m := p.metrics(n)
		if m == nil {
			p.s.out.say("%-20s not answering on http://127.0.0.1:%d/metrics", n, port[n])
			continue
		}
		done := m["snotibridge_consumer_messages_total"]
		p.s.out.say("%-20s %s/s (total %.0f), lag %.0f, retries %.0f, DLQ %.0f  http://127.0.0.1:%d/metrics",
			n, p.rate(n, done, elapsed), done, m["snotibridge_consumer_lag"], m["snotibridge_consumer_retries_total"], m["snotibridge_consumer_dead_letters_total"], port[n])
	}
	files := 0
	_ = filepath.WalkDir(filepath.Join(p.s.cfg.runDir, "sink-sim", "sftp"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	p.s.out.say("%-20s EnOS %s; Energisme %s; SFTP files %d", "sink-sim", p.simStats("enos"), p.simStats("energisme"), files)
}

// simStats is an emulator's /sim/<name>/stats on one line.
func (p *progress) simStats(name string) string {
	resp, err := p.client.Get(fmt.Sprintf("http://127.0.0.1:%d/sim/%s/stats", p.s.ports.sink, name))
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return strings.Join(strings.Fields(string(b)), " ")
}
