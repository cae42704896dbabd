package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

const replaySynopsis = `replay --sink telemetry|enos|energisme|energisme-files [--topic T[,T…]] [--from X] [--to X]
       [--time kafka|device [--lateness D]] [--filter product_key=…,did=…]
       [--rate N/s] [--dry-run] [--state FILE] [--restart]

Reads [--from, --to) of the topics with bridgectl's own partition readers (no
consumer group: no live group moves) and pushes every selected record through
the sink's own handler, with the live stages' retries and dead-lettering.
X is an RFC 3339 time, an offset for every partition, partition=offset pairs,
earliest or latest.

By default (--time kafka) times select by the Kafka record timestamp, which
is when the ingest wrote the record, not when the device measured it: after
an outage with a backlog the two are hours apart. The first record stamped
at or after --from is found with ListOffsets and every record is also
checked against the range. --time device selects by the device's time (a
SNoti event's created_at, a telemetry record's time, or received_at when the
device gave none): Kafka time from --from minus 5m to --to plus --lateness
(default 72h: SNoti keeps undelivered messages three days) is scanned and
only records whose device time is in [--from, --to) are sent.

The end is fixed when the replay starts: records written later are not part
of it. Progress is saved to a state file; the same command run again resumes
where it stopped (at-least-once: sinks drop duplicates by event_id).
Sinks: telemetry re-runs the decoder (CODECS_DIR) into the telemetry topic;
enos posts through the EnOS forwarder's handler (ENOS_*) as non-realtime
backfill; energisme pushes raw status events through the Energisme
forwarder's handler (ENERGISME_*; Energisme has no backfill flag);
energisme-files writes telemetry as the forwarder's flat files
(ENERGISME_SFTP_*, ENERGISME_FILE_*), cut and named as the forwarder cuts
them, so a window replayed whole replaces its file; the last files are
uploaded when the range is over, and an interrupted run writes them next
time.
Dead letters go where the sink's service puts them: TOPIC_DLQ when set (the
services' name), else TOPIC_DECODER_DLQ, TOPIC_ENOS_DLQ or TOPIC_ENERGISME_DLQ;
the plan says which variable was used.`

// replayRun is what replay and dlq redrive share: a planned, resumable run
// of the engine into a sink.
type replayRun struct {
	kind      string // state file prefix: replay, redrive
	params    map[string]string
	statePath string
	restart   bool
	dryRun    bool
	resolve   func() (replay.Plan, error)
	engine    replay.Config
	sink      replay.Sink
	handler   consume.Handler // set to bypass sink.Build (redrive --to-source)
}

func (a *app) replay(ctx context.Context, args []string) error {
	fs := a.flags("replay", replaySynopsis)
	var (
		sinkName  = fs.String("sink", "", "where records go: "+strings.Join(a.sinkTable().Names(), ", ")+" (required)")
		topics    = fs.String("topic", "", "topics to read, comma-separated (default: the sink's inputs)")
		fromS     = fs.String("from", "earliest", "start: RFC 3339 time, offset, p=offset,…, earliest")
		toS       = fs.String("to", "latest", "end, excluded: RFC 3339 time, offset, p=offset,…, latest (the log end when the replay starts)")
		filterS   = fs.String("filter", "", "only records whose fields match: product_key=…,did=…,event_type=… (repeat a field for alternatives)")
		dryRun    = fs.Bool("dry-run", false, "count and show samples, send nothing")
		samples   = fs.Int("samples", 5, "dry run: matched records printed as JSON lines")
		statePath = fs.String("state", "", "progress file (default: derived from the parameters, in BRIDGECTL_STATE_DIR)")
		restart   = fs.Bool("restart", false, "ignore saved progress and start the range again")
		codecsDir = fs.String("codecs-dir", "", "telemetry sink: codec folder (default CODECS_DIR)")
		batch     = fs.Int("batch-size", 500, "records per handler call")
		timeS     = fs.String("time", "kafka", "what --from/--to select by: kafka (the record timestamp: when it was written) or device (created_at)")
		lateness  = fs.Duration("lateness", replay.DefaultLateness, "--time device: how long after its device time a record may have reached Kafka")
	)
	var rate rateFlag
	fs.Var(&rate, "rate", "at most N records per second, N or N/s (0: no limit)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *codecsDir != "" {
		a.cfg.CodecsDir = *codecsDir
	}
	if *sinkName == "" {
		return usageErrorf("--sink is required: one of %s", strings.Join(a.sinkTable().Names(), ", "))
	}
	sink, err := a.sinkTable().Lookup(*sinkName)
	if err != nil && (!errors.Is(err, replay.ErrSinkUnavailable) || !*dryRun) {
		return &exitError{code: exitUsage, err: err}
	}
	from, err := replay.ParseBound(*fromS)
	if err != nil {
		return usageErrorf("--from %v", err)
	}
	to, err := replay.ParseBound(*toS)
	if err != nil {
		return usageErrorf("--to %v", err)
	}
	if ft, ok := from.Time(); ok {
		if tt, ok := to.Time(); ok && !tt.After(ft) {
			return usageErrorf("--to %s is not after --from %s", *toS, *fromS)
		}
	}
	basis, err := replay.ParseTimeBasis(*timeS)
	if err != nil {
		return usageErrorf("--time %v", err)
	}
	scanFrom, scanTo := from, to
	if basis == replay.TimeDevice {
		if scanFrom, scanTo, err = replay.DeviceTimeScan(from, to, *lateness); err != nil {
			return usageErrorf("--time device: %v", err)
		}
	} else if flagSet(fs, "lateness") {
		return usageErrorf("--lateness applies to --time device only")
	}
	filter, err := replay.ParseFilter(*filterS)
	if err != nil {
		return usageErrorf("--filter %v", err)
	}
	if *batch < 1 || *samples < 0 {
		return usageErrorf("--batch-size must be ≥ 1 and --samples ≥ 0")
	}
	tops := sink.Inputs
	if *topics != "" {
		tops = splitList(*topics)
	}
	if len(tops) == 0 {
		return usageErrorf("--topic is empty")
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return err
	}
	params := map[string]string{
		"kind": "replay", "sink": sink.Name, "topics": strings.Join(tops, ","),
		"from": from.String(), "to": to.String(), "filter": filter.String(),
	}
	eng := replay.Config{
		Filter: filter, From: from, To: to, Rate: float64(rate), BatchSize: *batch,
		DryRun: *dryRun, Samples: *samples,
	}
	if basis == replay.TimeDevice {
		// Kafka-time replays keep the parameters (and state files) they had.
		params["time"], params["lateness"] = string(basis), lateness.String()
		codec, err := a.readCodec(ctx)
		if err != nil {
			return err
		}
		eng.TimeOf = replay.DeviceTime(codec)
		fmt.Fprintf(a.errw, "selecting by device time (created_at) in [%s, %s); scanning Kafka time [%s, %s)\n", from, to, scanFrom, scanTo)
	}
	return a.runReplay(ctx, replayRun{
		kind: "replay", params: params,
		statePath: *statePath, restart: *restart, dryRun: *dryRun,
		resolve: func() (replay.Plan, error) { return replay.Resolve(ctx, client, tops, scanFrom, scanTo) },
		engine:  eng,
		sink:    sink,
	})
}

// runReplay opens (or resumes) the state, prints the plan, runs the engine
// with progress reporting and prints the summary.
func (a *app) runReplay(ctx context.Context, r replayRun) error {
	if v, ok := sinkDLQVar[r.sink.Name]; ok {
		topic, from, err := a.cfg.Topics.SinkDLQ(v, r.sink.DLQTopic)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		r.sink.DLQTopic = topic
		fmt.Fprintf(a.errw, "dead letters of sink %s go to %s (%s)\n", r.sink.Name, topic, from)
	}
	path := r.statePath
	if path == "" {
		var err error
		if path, err = replay.DefaultStatePath(a.cfg.StateDir, r.kind, replay.Identity(r.params)); err != nil {
			return err
		}
	}
	st, resumed, err := replay.OpenState(path, r.params, r.restart, r.resolve)
	if err != nil {
		if errors.Is(err, replay.ErrStateMismatch) {
			return &exitError{code: exitUsage, err: err}
		}
		return err
	}
	if st.Complete && !r.dryRun {
		fmt.Fprintf(a.errw, "%s already complete (state %s): %s\nnothing to do; pass --restart to run it again\n", r.kind, path, st.Summary)
		return nil
	}
	a.printPlan(st, path, resumed, r.dryRun)

	codec, err := a.readCodec(ctx)
	if err != nil {
		return err
	}
	var h consume.Handler
	var dlq *kafka.Writer
	closeSink := func(context.Context) error { return nil }
	if !r.dryRun {
		h = r.handler
		if h == nil {
			h, closeSink, err = r.sink.Build(ctx, replay.SinkEnv{Kafka: a.cfg.Kafka, Codec: codec, Log: a.log})
			if errors.Is(err, replay.ErrSinkConfig) {
				return &exitError{code: exitUsage, err: err}
			}
			if err != nil {
				return err
			}
		}
		if dlq, err = a.cfg.Kafka.NewWriter(r.sink.DLQTopic); err != nil {
			return err
		}
	}
	hold, _ := h.(replay.Holding)
	if hold != nil {
		if err := hold.Resume(path, st, resumed); err != nil {
			return err
		}
	}
	sum, runErr := a.runEngine(ctx, r, st, path, h, dlq, codec)
	if hold != nil {
		// The engine saved its progress over records the sink still held;
		// the state on disk must only pass what is durable.
		if err := hold.Finish(ctx, st, st.Complete && runErr == nil); err != nil && runErr == nil {
			runErr = err
		}
		if err := st.Save(path); err != nil && runErr == nil {
			runErr = err
		}
	}
	if dlq != nil {
		if err := dlq.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("closing the dead-letter writer: %w", err)
		}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := closeSink(cctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("closing the sink: %w", err)
	}
	if r.dryRun {
		fmt.Fprintf(a.errw, "%s dry run: matched %d, skipped %d; nothing sent\n", r.kind, sum.Matched, sum.Skipped)
	} else {
		fmt.Fprintf(a.errw, "%s: %s\n", r.kind, sum)
	}
	if resumed && !r.dryRun {
		fmt.Fprintf(a.errw, "%s total over every run: %s\n", r.kind, st.Summary)
	}
	switch {
	case runErr != nil && r.dryRun:
		return runErr
	case runErr != nil && ctx.Err() != nil:
		return fmt.Errorf("interrupted; progress saved to %s: run the same command to resume", path)
	case runErr != nil:
		return fmt.Errorf("%w (progress saved to %s: run the same command to resume)", runErr, path)
	}
	return nil
}

// runEngine runs the engine with progress reporting; a dry run prints its
// samples on stdout.
func (a *app) runEngine(ctx context.Context, r replayRun, st *replay.State, path string, h consume.Handler, dlq *kafka.Writer, codec *records.Codec) (replay.Summary, error) {
	cfg := r.engine
	cfg.State, cfg.Stage, cfg.DLQTopic = st, r.sink.Stage, r.sink.DLQTopic
	var w consume.MessageWriter // a nil *kafka.Writer must stay a nil interface
	if !r.dryRun {
		cfg.StatePath, w = path, dlq
	}
	eng, err := replay.New(cfg, a.cfg.Kafka, h, w, codec, a.log)
	if err != nil {
		return replay.Summary{}, err
	}
	p := a.startProgress(ctx, eng.Progress)
	sum, err := eng.Run(ctx)
	p.finish()
	for _, m := range eng.Samples() {
		line, rerr := renderRecord(codec, m, false)
		if rerr != nil {
			return sum, rerr
		}
		fmt.Fprintf(a.out, "%s\n", line)
	}
	return sum, err
}

func (a *app) printPlan(st *replay.State, path string, resumed, dryRun bool) {
	mode := "plan"
	if dryRun {
		mode = "dry run"
	}
	fmt.Fprintf(a.errw, "%s: %s\n", mode, st.Describe())
	var total, left int64
	for _, r := range st.Ranges {
		total += r.Len()
		left += max(0, r.End-r.Next)
		fmt.Fprintf(a.errw, "  %s/%d offsets [%d, %d) next %d\n", r.Topic, r.Partition, r.Start, r.End, r.Next)
	}
	fmt.Fprintf(a.errw, "  %d offsets, %d left; state %s", total, left, path)
	if resumed {
		fmt.Fprintf(a.errw, " (resuming: %s so far)", st.Summary)
	}
	fmt.Fprintln(a.errw)
}

func (a *app) sinkTable() replay.Sinks {
	if a.sinks == nil {
		a.sinks = defaultSinks(&a.cfg)
	}
	return a.sinks
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
