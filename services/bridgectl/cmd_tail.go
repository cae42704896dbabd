package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

const tailSynopsis = `tail --topic T[,T…] [--from X] [--to X] [--filter f=v,…] [--follow=false] [--limit N]

Prints records as JSON lines on stdout: topic, partition, offset, time, key,
headers, the schema version and the value decoded from Avro (any version,
found by fingerprint) as Avro JSON. Reads with its own partition readers (no
consumer group). --from defaults to latest (only new records); with --follow
(the default unless --to is given) it keeps reading until interrupted.`

func (a *app) tail(ctx context.Context, args []string) error {
	fs := a.flags("tail", tailSynopsis)
	var (
		topics  = fs.String("topic", "", "topics, comma-separated (required)")
		fromS   = fs.String("from", "latest", "start: RFC 3339 time, offset, p=offset,…, earliest, latest")
		toS     = fs.String("to", "", "stop before: RFC 3339 time, offset, latest (implies --follow=false)")
		filterS = fs.String("filter", "", "only records whose fields match: product_key=…,did=…,event_type=…")
		follow  = fs.Bool("follow", true, "keep reading new records until interrupted")
		limit   = fs.Int("limit", 0, "stop after printing N records (0: no limit)")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	tops := splitList(*topics)
	if len(tops) == 0 {
		return usageErrorf("--topic is required")
	}
	from, err := replay.ParseBound(*fromS)
	if err != nil {
		return usageErrorf("--from %v", err)
	}
	to, err := replay.ParseBound(*toS)
	if err != nil {
		return usageErrorf("--to %v", err)
	}
	filter, err := replay.ParseFilter(*filterS)
	if err != nil {
		return usageErrorf("--filter %v", err)
	}
	if to.IsSet() {
		*follow = false
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	plan, err := replay.Resolve(ctx, client, tops, from, to)
	if err != nil {
		return err
	}
	if *follow {
		for i := range plan.Ranges {
			plan.Ranges[i].End = replay.Unbounded
		}
	}
	codec, err := a.readCodec(ctx)
	if err != nil {
		return err
	}
	printed := 0
	err = a.scan(ctx, plan, func(m kafka.Message) error {
		if !filter.Match(m) {
			return nil
		}
		if ft, ok := from.Time(); ok && m.Time.Before(ft) {
			return nil
		}
		if tt, ok := to.Time(); ok && !m.Time.Before(tt) {
			return nil
		}
		line, err := renderRecord(codec, m, false)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(a.out, "%s\n", line); err != nil {
			return fmt.Errorf("writing to stdout: %w", err)
		}
		printed++
		if *limit > 0 && printed >= *limit {
			return errStopScan
		}
		return nil
	})
	if *follow && ctx.Err() != nil {
		return nil // interrupted, as tail -f is
	}
	return err
}

// errStopScan ends a scan early from its callback, without error.
var errStopScan = errors.New("stop scanning")

// scan reads plan with a replay.Scanner and calls fn for each message,
// each partition's in order, until the plan is read, ctx ends or fn
// returns an error (errStopScan: stop quietly).
func (a *app) scan(ctx context.Context, plan replay.Plan, fn func(kafka.Message) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sc := replay.NewScanner(a.cfg.Kafka, plan, 256, a.log)
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	var ferr error
	for m := range sc.Messages() {
		if ferr = fn(m); ferr != nil {
			cancel()
			break
		}
	}
	cancel()
	for range sc.Messages() { // let Run return
	}
	serr := <-done
	if errors.Is(ferr, errStopScan) {
		return nil
	}
	if ferr != nil {
		return ferr
	}
	return serr
}
