package main

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxWidth is the widest the table gets: an 80-column terminal.
const maxWidth = 80

// stageRow is one stage of the pipeline in the table. A negative count is
// unknown (the service does not answer, or has no such measure).
type stageRow struct {
	name    string
	up      bool    // the service answered /metrics
	rate    float64 // records/s since the last report; NaN before a second report
	total   float64
	lag     float64
	retries float64
	dlq     float64
	lastErr string
}

// simRow is one emulator in the table: labelled counts.
type simRow struct {
	name   string
	up     bool
	counts []simCount
}

type simCount struct {
	label string
	n     float64
}

// snapshot is one report's worth of numbers.
type snapshot struct {
	at     time.Time
	stages []stageRow
	sims   []simRow
}

// Column widths of the stage rows; the last error gets what is left.
const (
	nameW  = 19 // "energisme-forwarder"
	rateW  = 7
	totalW = 6
	lagW   = 6
	retryW = 5
	dlqW   = 5
)

// renderTable draws s as lines of at most width columns (capped at 80).
func renderTable(s snapshot, width int) []string {
	width = min(max(width, 40), maxWidth)
	lines := []string{
		fmt.Sprintf("%-*s %*s %*s %*s %*s %*s  %s", nameW, "STAGE", rateW, "RATE", totalW, "TOTAL", lagW, "LAG", retryW, "RETRY", dlqW, "DLQ", "LAST ERROR"),
	}
	for _, r := range s.stages {
		if !r.up {
			lines = append(lines, fmt.Sprintf("%-*s %s", nameW, r.name, "not answering on /metrics"))
			continue
		}
		rate := "-"
		if !math.IsNaN(r.rate) {
			rate = human(max(r.rate, 0)) + "/s"
		}
		lastErr := r.lastErr
		if lastErr == "" {
			lastErr = "-"
		}
		lines = append(lines, fmt.Sprintf("%-*s %*s %*s %*s %*s %*s  %s", nameW, r.name, rateW, rate, totalW, humanOr(r.total),
			lagW, humanOr(r.lag), retryW, humanOr(r.retries), dlqW, humanOr(r.dlq), oneLine(lastErr)))
	}
	lines = append(lines, fmt.Sprintf("%-*s %s", nameW, "EMULATOR", "RECEIVED"))
	for _, r := range s.sims {
		if !r.up {
			lines = append(lines, fmt.Sprintf("%-*s %s", nameW, r.name, "not answering on /sim/"))
			continue
		}
		parts := make([]string, len(r.counts))
		for i, c := range r.counts {
			parts[i] = c.label + " " + humanOr(c.n)
		}
		lines = append(lines, fmt.Sprintf("%-*s %s", nameW, r.name, strings.Join(parts, "  ")))
	}
	for i, l := range lines {
		lines[i] = truncate(l, width)
	}
	return lines
}

// human renders n with k, M, G, T, P: 999, 1.2k, 12k, 123k, 1.2M.
func human(n float64) string {
	neg := ""
	if n < 0 {
		neg, n = "-", -n
	}
	const units = " kMGTP"
	i := 0
	for i < len(units)-1 && n >= 999.5 {
		n /= 1000
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%s%.0f", neg, n)
	case n < 9.95:
		return fmt.Sprintf("%s%.1f%c", neg, n, units[i])
	default:
		return fmt.Sprintf("%s%.0f%c", neg, n, units[i])
	}
}

// humanOr is human(n), or "-" for an unknown (negative) count.
func humanOr(n float64) string {
	if n < 0 || math.IsNaN(n) {
		return "-"
	}
	return human(n)
}

// oneLine makes an error message safe for one table cell: control
// characters (newlines, escape sequences) become spaces.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// truncate cuts s to width runes, ending with "…" when it cut.
func truncate(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}
