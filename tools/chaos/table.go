package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// failures are the reasons to exit 1: anything ACKed that Kafka does not
// hold or held only after the ACK, anything never ACKed or never delivered,
// a file row in two files (the README: "no row is in two files"), items a
// sink holds that Kafka never did, or a drain that did not finish.
// Duplicates at EnOS and Energisme are reported, not failures: delivery
// there is at-least-once (a record redone after a restart is sent again;
// Energisme drops duplicates by device and timestamp).
func (r *result) failures(cfg config) []string {
	var f []string
	add := func(cond bool, format string, args ...any) {
		if cond {
			f = append(f, fmt.Sprintf(format, args...))
		}
	}
	add(!r.drained, "not drained within %s", cfg.drain)
	add(r.summary.Events != cfg.events(), "the fleet published %d of %d events", r.summary.Events, cfg.events())
	add(r.unacked > 0, "%d messages never ACKed", r.unacked)
	add(r.ackedNotInKafka > 0, "%d ACKed events are not in Kafka (lost)", r.ackedNotInKafka)
	add(r.ackedEarly > 0, "%d ACKs before durability", r.ackedEarly)
	add(uint64(r.kafkaUnique) != r.summary.Events, "%d of %d events in Kafka", r.kafkaUnique, r.summary.Events)
	for _, s := range []struct {
		name string
		id   identity
		dups bool
	}{{"EnOS points", r.enos, false}, {"Energisme uplinks", r.uplinks, false}, {"SFTP file rows", r.rows, true}} {
		add(s.id.expected == 0, "%s: none expected: nothing to compare", s.name)
		add(s.id.missing > 0, "%s: %d missing", s.name, s.id.missing)
		add(s.id.unexpected > 0, "%s: %d that Kafka holds no source of", s.name, s.id.unexpected)
		add(s.dups && s.id.duplicates > 0, "%s: %d in two files", s.name, s.id.duplicates)
	}
	return f
}

// print writes the one table.
func (r *result) print(w io.Writer, cfg config, failures []string) {
	row := func(k, format string, args ...any) {
		fmt.Fprintf(w, "| %-34s | %s |\n", k, fmt.Sprintf(format, args...))
	}
	sink := func(name string, id identity) {
		row(name, "expected %d, received %d, missing %d, duplicates %d, unexpected %d", id.expected, id.received, id.missing, id.duplicates, id.unexpected)
	}
	fmt.Fprintf(w, "\nchaos seed %d: %s of faults, %d devices, %g events/s\n\n", cfg.seed, cfg.duration, cfg.devices, cfg.rate)
	fmt.Fprintf(w, "| %-34s | %s |\n|%s|%s|\n", "measure", "value", strings.Repeat("-", 36), strings.Repeat("-", 40))
	s := r.summary
	row("pushed (events published)", "%d (pushes %d, redeliveries %d)", s.Events, s.Pushes, s.Redeliveries)
	row("ACKed", "%d (never ACKed %d; repeated %d, stale %d)", r.acked, r.unacked, s.UnknownAcks, s.StaleAcks)
	row("unique in Kafka (snoti.events.v1)", "%d (records %d, duplicates %d)", r.kafkaUnique, r.kafkaRecords, r.kafkaRecords-r.kafkaUnique)
	row("ACKed but not in Kafka (lost)", "%d", r.ackedNotInKafka)
	row("ACKs before durability", "%d", r.ackedEarly)
	row("malformed lines (snoti.invalid.v1)", "%d written by snoti-sim, %d in Kafka", s.Injected, r.invalid)
	sink("EnOS points (device, time, point)", r.enos)
	sink("Energisme uplinks (device, time)", r.uplinks)
	sink("SFTP rows (module, time, offset)", r.rows)
	row("SFTP files", "%d", r.files)
	var lags []string
	for _, g := range groups {
		lags = append(lags, fmt.Sprintf("%s %d", g.name, r.maxLag[g.name]))
	}
	row("max lag (records)", "%s", strings.Join(lags, ", "))
	drained := "drained"
	if !r.drained {
		drained = "NOT drained"
	}
	row("time to drain", "%s after the last fault (%s)", r.drain.Round(100*time.Millisecond), drained)
	var fs []string
	for _, k := range r.faults {
		fs = append(fs, fmt.Sprintf("%s %d", k, r.faultCounts[k]))
	}
	row("faults by kind", "%d: %s", r.faultTotal, strings.Join(fs, ", "))
	if len(r.faultErrors) > 0 {
		row("faults that failed to apply", "%d: %s", len(r.faultErrors), strings.Join(r.faultErrors, "; "))
	}
	var ex []string
	for k, v := range r.unplanned {
		ex = append(ex, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(ex)
	if len(ex) == 0 {
		ex = []string{"none"}
	}
	row("exits not caused by a fault", "%s", strings.Join(ex, ", "))
	if len(failures) == 0 {
		row("result", "PASS")
	} else {
		row("result", "FAIL: %s", strings.Join(failures, "; "))
	}
	fmt.Fprintln(w)
}
