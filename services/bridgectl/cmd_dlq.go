package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

const dlqListSynopsis = `dlq list --topic D [--since X] [--filter reason=…,stage=…,product_key=…,did=…]

Counts the dead letters of topic D (from --since, default earliest, to now)
grouped by stage and reason, with the first and last failure time and one
error message each.`

const dlqShowSynopsis = `dlq show --topic D [--since X] [--filter …] [--limit N]

Prints dead letters as JSON lines: the DeadLetter record (stage, reason,
error, attempts, source topic/partition/offset, …) and, under "original", the
record it holds decoded to JSON.`

const dlqRedriveSynopsis = `dlq redrive --topic D [--since X] [--filter …] [--sink S | --to-source]
       [--rate N/s] [--execute] [--report FILE] [--state FILE] [--restart]

Resends the dead letters of D: through the sink's own handler (--sink, by
default the sink whose DLQ D is), or back to the topic each came from
(--to-source, for the live stage to consume again). Without --execute it
prints the plan and exits 3. Nothing is deleted: D is left as it is; a record
that fails again is dead-lettered again (a new record on the sink's DLQ). The
outcome of every record is appended to a JSON-lines report, and progress is
saved like a replay's, so an interrupted redrive resumes.`

func (a *app) dlqList(ctx context.Context, args []string) error {
	fs := a.flags("dlq list", dlqListSynopsis)
	topic, since, filterS := dlqFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	plan, filter, codec, err := a.dlqPlan(ctx, *topic, *since, *filterS)
	if err != nil {
		return err
	}
	type group struct {
		stage, reason string
		count         int
		first, last   time.Time
		example       string
	}
	groups := map[[2]string]*group{}
	undecodable := 0
	err = a.scan(ctx, plan, func(m kafka.Message) error {
		if !filter.Match(m) {
			return nil
		}
		var dl records.DeadLetter
		if err := codec.Unmarshal(m.Value, &dl); err != nil {
			undecodable++
			return nil
		}
		k := [2]string{dl.Stage, dl.Reason}
		g := groups[k]
		if g == nil {
			g = &group{stage: dl.Stage, reason: dl.Reason, first: dl.FailedAt, example: dl.Error}
			groups[k] = g
		}
		g.count++
		if dl.FailedAt.Before(g.first) {
			g.first = dl.FailedAt
		}
		if dl.FailedAt.After(g.last) {
			g.last = dl.FailedAt
		}
		return nil
	})
	if err != nil {
		return err
	}
	list := make([]*group, 0, len(groups))
	total := 0
	for _, g := range groups {
		list = append(list, g)
		total += g.count
	}
	slices.SortFunc(list, func(x, y *group) int {
		if x.count != y.count {
			return y.count - x.count
		}
		return strings.Compare(x.stage+x.reason, y.stage+y.reason)
	})
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tREASON\tCOUNT\tFIRST\tLAST\tEXAMPLE")
	for _, g := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", g.stage, g.reason, g.count,
			g.first.Format(time.RFC3339), g.last.Format(time.RFC3339), truncate(g.example, 80))
	}
	fmt.Fprintf(tw, "TOTAL\t\t%d\t\t\t\n", total)
	if undecodable > 0 {
		fmt.Fprintf(tw, "NOT A DEAD LETTER\t\t%d\t\t\t\n", undecodable)
	}
	return tw.Flush()
}

func (a *app) dlqShow(ctx context.Context, args []string) error {
	fs := a.flags("dlq show", dlqShowSynopsis)
	topic, since, filterS := dlqFlags(fs)
	limit := fs.Int("limit", 0, "stop after N records (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	plan, filter, codec, err := a.dlqPlan(ctx, *topic, *since, *filterS)
	if err != nil {
		return err
	}
	n := 0
	return a.scan(ctx, plan, func(m kafka.Message) error {
		if !filter.Match(m) {
			return nil
		}
		line, err := renderRecord(codec, m, true)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(a.out, "%s\n", line); err != nil {
			return fmt.Errorf("writing to stdout: %w", err)
		}
		if n++; *limit > 0 && n >= *limit {
			return errStopScan
		}
		return nil
	})
}

func (a *app) dlqRedrive(ctx context.Context, args []string) error {
	fs := a.flags("dlq redrive", dlqRedriveSynopsis)
	topic, since, filterS := dlqFlags(fs)
	var (
		sinkName  = fs.String("sink", "", "sink to resend through (default: the sink whose DLQ --topic is)")
		toSource  = fs.Bool("to-source", false, "write each record back to its source topic instead")
		execute   = fs.Bool("execute", false, "resend (otherwise only print the plan)")
		report    = fs.String("report", "", "JSON-lines outcome report, appended (default: next to the state file)")
		statePath = fs.String("state", "", "progress file (default: derived from the parameters)")
		restart   = fs.Bool("restart", false, "ignore saved progress")
		codecsDir = fs.String("codecs-dir", "", "telemetry sink: codec folder (default CODECS_DIR)")
	)
	var rate rateFlag
	fs.Var(&rate, "rate", "at most N records per second, N or N/s (0: no limit)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *codecsDir != "" {
		a.cfg.CodecsDir = *codecsDir
	}
	if *toSource && *sinkName != "" {
		return usageErrorf("give --sink or --to-source, not both")
	}
	plan, filter, codec, err := a.dlqPlan(ctx, *topic, *since, *filterS)
	if err != nil {
		return err
	}
	var sink replay.Sink
	dest := "source"
	if !*toSource {
		name := *sinkName
		if name == "" {
			// The first sink of the topic: energisme.dlq.v1 is both
			// Energisme parts' topic, and its dead letters go back to the
			// push (the file part's are records that are not telemetry).
			for _, s := range a.sinkTable() {
				if s.DLQTopic == *topic && name == "" {
					name = s.Name
				}
			}
			if name == "" {
				return usageErrorf("--topic %s is no sink's DLQ: name --sink or use --to-source", *topic)
			}
		}
		if sink, err = a.sinkTable().Lookup(name); err != nil && (*execute || !errors.Is(err, replay.ErrSinkUnavailable)) {
			return &exitError{code: exitUsage, err: err}
		}
		if sink.Name == "energisme-files" {
			// Its files are cut from ranges of the telemetry topic; dead
			// letters are scattered records, and the file part's own are
			// not telemetry at all.
			return usageErrorf("--sink energisme-files takes replays, not redrives: replay the time range (bridgectl replay --sink energisme-files) or redrive --to-source")
		}
		dest = "sink " + sink.Name
	} else {
		// A record the source's stage rejects again lands in its DLQ,
		// which is D: the stage is the dead letters' own.
		sink = replay.Sink{Name: "source", Stage: "redrive", DLQTopic: *topic}
	}
	unwrap := unwrapDeadLetter(codec, *topic)

	if !*execute {
		return a.redrivePlan(ctx, plan, filter, unwrap, dest)
	}

	params := map[string]string{
		"kind": "redrive", "topic": *topic, "since": *since, "filter": filter.String(), "dest": dest,
	}
	path := *statePath
	if path == "" {
		if path, err = replay.DefaultStatePath(a.cfg.StateDir, "redrive", replay.Identity(params)); err != nil {
			return err
		}
	}
	if *report == "" {
		*report = strings.TrimSuffix(path, ".json") + ".report.jsonl"
	}
	rep, err := openReport(*report, *topic, dest)
	if err != nil {
		return err
	}
	defer rep.close()
	r := replayRun{
		kind: "redrive", params: params, statePath: path, restart: *restart,
		resolve: func() (replay.Plan, error) { return plan, nil },
		engine: replay.Config{
			Filter: filter, Rate: float64(rate), Transform: unwrap, OnOutcome: rep.write,
		},
		sink: sink,
	}
	if *toSource {
		w, err := a.cfg.Kafka.NewWriter("")
		if err != nil {
			return err
		}
		defer w.Close()
		r.handler = toSourceHandler(w)
	}
	err = a.runReplay(ctx, r)
	fmt.Fprintf(a.errw, "outcomes appended to %s\n", *report)
	if rerr := rep.close(); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// redrivePlan counts what a redrive would resend, by stage, reason and
// source topic, and refuses to go further without --execute.
func (a *app) redrivePlan(ctx context.Context, plan replay.Plan, filter replay.Filter, unwrap func(kafka.Message) (kafka.Message, error), dest string) error {
	counts := map[string]int{}
	skipped := map[string]int{}
	n := 0
	err := a.scan(ctx, plan, func(m kafka.Message) error {
		if !filter.Match(m) {
			return nil
		}
		orig, err := unwrap(m)
		if err != nil {
			skipped[err.Error()]++
			return nil
		}
		counts[fmt.Sprintf("%s\t%s\t%s", records.Header(m, "stage"), records.Header(m, "reason"), orig.Topic)]++
		n++
		return nil
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.errw, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "plan: redrive %d dead letters to %s\n", n, dest)
	fmt.Fprintln(tw, "STAGE\tREASON\tSOURCE TOPIC\tCOUNT")
	for _, k := range sortedKeys(counts) {
		fmt.Fprintf(tw, "%s\t%d\n", k, counts[k])
	}
	for _, k := range sortedKeys(skipped) {
		fmt.Fprintf(tw, "not redrivable: %s\t\t\t%d\n", k, skipped[k])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(a.errw, "nothing to redrive")
		return nil
	}
	return refusedf("not executed: add --execute to resend %d records", n)
}

func dlqFlags(fs interface {
	String(name, value, usage string) *string
}) (topic, since, filter *string) {
	topic = fs.String("topic", "", "dead-letter topic (required), e.g. enos.dlq.v1")
	since = fs.String("since", "earliest", "from: RFC 3339 time, a duration back from now (24h), offset, p=offset,… or earliest")
	filter = fs.String("filter", "", "only dead letters matching reason=…,stage=…,product_key=…,did=…,event_type=…")
	return topic, since, filter
}

// dlqPlan resolves [since, now) of a DLQ topic.
func (a *app) dlqPlan(ctx context.Context, topic, since, filterS string) (replay.Plan, replay.Filter, *records.Codec, error) {
	if topic == "" {
		return replay.Plan{}, replay.Filter{}, nil, usageErrorf("--topic is required")
	}
	from, err := replay.ParseBound(since)
	if d, derr := time.ParseDuration(since); derr == nil && d > 0 {
		from, err = replay.AtTime(time.Now().Add(-d)), nil
	}
	if err != nil {
		return replay.Plan{}, replay.Filter{}, nil, usageErrorf("--since %v (or a duration such as 24h)", err)
	}
	filter, err := replay.ParseFilter(filterS)
	if err != nil {
		return replay.Plan{}, replay.Filter{}, nil, usageErrorf("--filter %v", err)
	}
	codec, err := a.readCodec(ctx)
	if err != nil {
		return replay.Plan{}, replay.Filter{}, nil, err
	}
	client, err := a.cfg.Kafka.Client()
	if err != nil {
		return replay.Plan{}, replay.Filter{}, nil, err
	}
	plan, err := replay.Resolve(ctx, client, []string{topic}, from, replay.Latest())
	return plan, filter, codec, err
}

// unwrapDeadLetter returns the record a dead letter holds, as it was on
// its source topic, with a redriven_from header naming the dead letter.
func unwrapDeadLetter(codec *records.Codec, dlqTopic string) func(kafka.Message) (kafka.Message, error) {
	return func(m kafka.Message) (kafka.Message, error) {
		var dl records.DeadLetter
		if err := codec.Unmarshal(m.Value, &dl); err != nil {
			return kafka.Message{}, errors.New("not a dead letter")
		}
		if dl.SourceTopic == nil || *dl.SourceTopic == "" || len(dl.Value) == 0 {
			return kafka.Message{}, errors.New("no source record (an unparseable input line)")
		}
		out := kafka.Message{
			Topic: *dl.SourceTopic, Partition: int(dl.SourcePartition), Offset: dl.SourceOffset,
			Key: dl.Key, Value: dl.Value, Time: dl.FailedAt,
		}
		for _, k := range sortedKeys(dl.Headers) {
			if k != "redriven_from" {
				out.Headers = append(out.Headers, kafka.Header{Key: k, Value: []byte(dl.Headers[k])})
			}
		}
		out.Headers = append(out.Headers, kafka.Header{Key: "redriven_from", Value: fmt.Appendf(nil, "%s/%d/%d", dlqTopic, m.Partition, m.Offset)})
		return out, nil
	}
}

// toSourceHandler writes each record back to its source topic (same key,
// hence same partition) with acks=all; a failed write is retried.
func toSourceHandler(w consume.MessageWriter) consume.Handler {
	return consume.HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
		out := make([]kafka.Message, len(msgs))
		for i, m := range msgs {
			out[i] = kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers}
		}
		errs := make([]error, len(msgs))
		err := w.WriteMessages(ctx, out...)
		var werrs kafka.WriteErrors
		for i := range msgs {
			switch {
			case err == nil:
			case errors.As(err, &werrs) && len(werrs) == len(out):
				if werrs[i] != nil {
					errs[i] = sinkerr.NewRetryable(fmt.Errorf("writing to %s: %w", msgs[i].Topic, werrs[i]), 0)
				}
			default:
				errs[i] = sinkerr.NewRetryable(fmt.Errorf("writing to %s: %w", msgs[i].Topic, err), 0)
			}
		}
		return errs
	})
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
