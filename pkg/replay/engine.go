package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// Outcome is the fate of one record read, for reports.
type Outcome struct {
	Message kafka.Message // as read (a dead letter, for a redrive)
	Result  string        // sent, skipped, duplicate, dead_lettered, matched
	Err     error         // why it was skipped or dead-lettered
}

// Config configures an Engine.
type Config struct {
	State     *State // ranges and progress; updated as the run goes
	StatePath string // where State is saved; "" keeps it in memory
	Filter    Filter
	// From and To, when times, also bound every record's time, so that
	// the records sent are exactly those of [From, To): its Kafka
	// timestamp, or what TimeOf says.
	From, To Bound
	// TimeOf, when set, is the time a record is selected by instead of its
	// Kafka timestamp (DeviceTime for a replay by device time); a record
	// it cannot date is skipped with its error.
	TimeOf   func(kafka.Message) (time.Time, error)
	Stage    string // DeadLetter.stage of records the sink rejects
	DLQTopic string
	// BatchSize, BatchWait and BatchLinger cut the records read into
	// batches as the consuming stages do (consume.Batching): BatchSize
	// records (default 500, capped by Rate), BatchLinger without a record
	// (default 1ms; negative: none) or BatchWait after the first (default
	// 20ms).
	BatchSize   int
	BatchWait   time.Duration
	BatchLinger time.Duration
	Rate        float64       // records per second, 0 for no limit
	DryRun      bool          // count and sample, send nothing
	Samples     int           // dry run: matched records kept (default 5)
	SaveEvery   time.Duration // default 250ms; the state is also saved at the end
	// Transform, when set, turns a record read into the record handed to
	// the sink (a redrive unwraps dead letters); an error skips the record.
	Transform func(kafka.Message) (kafka.Message, error)
	// OnOutcome, when set, is called for every record whose fate is final,
	// from the engine's goroutine.
	OnOutcome func(Outcome)
}

// Engine runs one replay: it reads the state's remaining ranges and pushes
// the selected records through a consume.Processor around the sink's
// handler, saving progress as it goes.
type Engine struct {
	cfg     Config
	kafka   kafkaconf.Config
	proc    *consume.Processor
	log     zerolog.Logger
	pace    pacer
	samples []kafka.Message

	mu      sync.Mutex
	summary Summary // of this run
	total   int64
}

// New builds an engine. h is the sink's handler and dlq the writer of its
// dead letters; both may be nil for a dry run.
func New(cfg Config, kcfg kafkaconf.Config, h consume.Handler, dlq consume.MessageWriter, codec *records.Codec, log zerolog.Logger) (*Engine, error) {
	if cfg.State == nil {
		return nil, errors.New("replay: Config.State is nil")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.Rate > 0 && float64(cfg.BatchSize) > cfg.Rate {
		cfg.BatchSize = max(1, int(cfg.Rate))
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 20 * time.Millisecond
	}
	if cfg.BatchLinger == 0 {
		cfg.BatchLinger = consume.DefaultBatchLinger
	}
	if cfg.Samples == 0 {
		cfg.Samples = 5
	}
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = 250 * time.Millisecond
	}
	e := &Engine{cfg: cfg, kafka: kcfg, log: log, pace: pacer{rate: cfg.Rate}, total: cfg.State.Plan().Total()}
	if !cfg.DryRun {
		if h == nil || dlq == nil {
			return nil, errors.New("replay: a handler and a dead-letter writer are required unless DryRun")
		}
		proc, err := consume.NewProcessor(consume.ProcessorConfig{Stage: cfg.Stage, DLQTopic: cfg.DLQTopic},
			h, dlq, codec, log, prometheus.NewRegistry())
		if err != nil {
			return nil, err
		}
		e.proc = proc
	}
	return e, nil
}

// Progress returns this run's counts so far and the number of offsets the
// run set out to read. Safe to call concurrently with Run.
func (e *Engine) Progress() (Summary, int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.summary, e.total
}

// Samples returns the matched records a dry run kept.
func (e *Engine) Samples() []kafka.Message { return e.samples }

// Run reads the remaining ranges and finishes their records. It returns
// when every range is done (the state is marked Complete), when ctx is
// cancelled (ctx's error; progress is saved, so running again resumes), or
// when reading, dead-lettering or saving fails. The summary is of this run
// only; the state's summary accumulates across runs. A sink that keeps
// failing is retried with backoff until ctx is cancelled.
func (e *Engine) Run(ctx context.Context) (Summary, error) {
	ctx = consume.WithReplay(ctx)
	st := e.cfg.State
	if st.StartedAt.IsZero() {
		st.StartedAt = time.Now().UTC()
	}
	base := st.Summary
	if err := e.skipExpired(ctx); err != nil {
		return Summary{}, err
	}
	scanCtx, cancelScan := context.WithCancel(ctx)
	defer cancelScan()
	sc := NewScanner(e.kafka, st.Plan(), 2*e.cfg.BatchSize, e.log)
	scanErr := make(chan error, 1)
	go func() { scanErr <- sc.Run(scanCtx) }()

	var runErr error
	lastSave := time.Now()
	fetch := consume.ChanFetch(sc.Messages())
	batching := consume.Batching{Size: e.cfg.BatchSize, Wait: e.cfg.BatchWait, Linger: e.cfg.BatchLinger}
	for {
		batch, err := batching.Collect(ctx, fetch)
		open := !errors.Is(err, consume.ErrSourceClosed)
		if ctx.Err() != nil {
			break // what was collected is read again next time
		}
		if len(batch) > 0 {
			if err := e.handle(ctx, batch); err != nil {
				runErr = err
				break
			}
			if e.cfg.StatePath != "" && time.Since(lastSave) >= e.cfg.SaveEvery {
				e.snapshot(base)
				if err := st.Save(e.cfg.StatePath); err != nil {
					runErr = err
					break
				}
				lastSave = time.Now()
			}
		}
		if !open || ctx.Err() != nil {
			break
		}
	}
	cancelScan()
	serr := <-scanErr
	if runErr == nil && ctx.Err() == nil {
		runErr = serr
	}
	// Messages read ahead but never handed to the sink are simply read
	// again next time: progress only moves over finished records.
	complete := true
	for _, r := range st.Ranges {
		if r.Next < r.End {
			complete = false
		}
	}
	st.Complete = complete && runErr == nil && !e.cfg.DryRun
	e.snapshot(base)
	if e.cfg.StatePath != "" && !e.cfg.DryRun {
		if err := st.Save(e.cfg.StatePath); err != nil && runErr == nil {
			runErr = err
		}
	}
	sum, _ := e.Progress()
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	return sum, runErr
}

// skipExpired moves each range's next offset past records that retention
// deleted since the range was planned (a replay resumed days later): they
// cannot be read, and a reader asked for them would wait for ever when
// nothing newer is left in the range.
func (e *Engine) skipExpired(ctx context.Context) error {
	client, err := e.kafka.Client()
	if err != nil {
		return err
	}
	byTopic := map[string][]int{}
	for _, r := range e.cfg.State.Ranges {
		if r.Next < r.End {
			byTopic[r.Topic] = append(byTopic[r.Topic], r.Partition)
		}
	}
	for topic, parts := range byTopic {
		first, _, err := LogOffsets(ctx, client, topic, parts)
		if err != nil {
			return err
		}
		for i, r := range e.cfg.State.Ranges {
			if f, ok := first[r.Partition]; ok && r.Topic == topic && r.Next < f {
				next := min(f, r.End)
				e.log.Warn().Str("topic", topic).Int("partition", r.Partition).Int64("from", r.Next).Int64("to", next).
					Msg("records deleted by retention before the replay reached them")
				e.mu.Lock()
				e.summary.Expired += next - r.Next
				e.mu.Unlock()
				e.cfg.State.Ranges[i].Next = next
			}
		}
	}
	return nil
}

func (e *Engine) snapshot(base Summary) {
	sum, _ := e.Progress()
	s := base
	s.add(sum)
	e.cfg.State.Summary = s
}

// handle finishes one batch, moves each partition's next offset over the
// records finished without a gap, and counts only those: a record finished
// after an unfinished one of its partition is read, sent and counted again
// when the replay resumes.
func (e *Engine) handle(ctx context.Context, batch []kafka.Message) error {
	results := make([]Outcome, len(batch)) // Result "" while not finished
	var sendIdx []int
	var send []kafka.Message
	for i, m := range batch {
		results[i].Message = m
		out, err := e.selectMessage(m)
		in := false
		if err == nil {
			in, err = e.inTime(m)
		}
		switch {
		case err != nil || !e.cfg.Filter.Match(m) || !in:
			results[i].Result, results[i].Err = "skipped", err
		case e.cfg.DryRun:
			results[i].Result = "matched"
			if len(e.samples) < e.cfg.Samples {
				e.samples = append(e.samples, m)
			}
		default:
			sendIdx = append(sendIdx, i)
			send = append(send, out)
		}
	}
	var perr error
	if len(send) > 0 && e.pace.wait(ctx, len(send)) == nil {
		var outcomes []consume.Outcome
		outcomes, perr = e.proc.Process(ctx, send)
		for j, i := range sendIdx {
			if o := outcomes[j]; o.Done() {
				results[i].Result, results[i].Err = o.Result.String(), o.Err
			}
		}
	}
	done := make([]bool, len(batch))
	for i, r := range results {
		done[i] = r.Result != ""
	}
	kept := e.advance(batch, done)
	var sum Summary
	var failed int64
	for i, r := range results {
		if !kept[i] {
			failed++
			continue
		}
		switch r.Result {
		case "skipped":
			sum.Skipped++
		case "matched":
			sum.Matched++
		case "duplicate":
			sum.Duplicates++
		case "dead_lettered":
			sum.DeadLettered++
		case "sent":
			sum.Sent++
		}
		if e.cfg.OnOutcome != nil {
			e.cfg.OnOutcome(r)
		}
	}
	e.add(sum, failed)
	if perr != nil && ctx.Err() == nil {
		return fmt.Errorf("processing a batch: %w", perr)
	}
	return nil
}

func (e *Engine) add(s Summary, failed int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.summary.Failed
	e.summary.add(s)
	e.summary.Failed = f + failed
}

func (e *Engine) selectMessage(m kafka.Message) (kafka.Message, error) {
	if e.cfg.Transform == nil {
		return m, nil
	}
	return e.cfg.Transform(m)
}

// inTime reports whether m's time (Kafka timestamp or TimeOf) is in
// [From, To).
func (e *Engine) inTime(m kafka.Message) (bool, error) {
	from, fromOK := e.cfg.From.Time()
	to, toOK := e.cfg.To.Time()
	if !fromOK && !toOK && e.cfg.TimeOf == nil {
		return true, nil
	}
	at := m.Time
	if e.cfg.TimeOf != nil {
		var err error
		if at, err = e.cfg.TimeOf(m); err != nil {
			return false, err
		}
	}
	return (!fromOK || !at.Before(from)) && (!toOK || at.Before(to)), nil
}

// advance sets each range's Next past the records of batch that are done
// with no unfinished record before them in their partition (the commit
// rule of consume.ContiguousDone), and reports which records it moved over.
func (e *Engine) advance(batch []kafka.Message, done []bool) []bool {
	type tp struct {
		topic string
		part  int
	}
	upTo := map[tp]int64{}
	for _, m := range consume.ContiguousDone(batch, done) {
		upTo[tp{m.Topic, m.Partition}] = m.Offset
	}
	for i, r := range e.cfg.State.Ranges {
		if last, ok := upTo[tp{r.Topic, r.Partition}]; ok && last+1 > r.Next {
			e.cfg.State.Ranges[i].Next = last + 1
		}
	}
	kept := make([]bool, len(batch))
	for i, m := range batch {
		last, ok := upTo[tp{m.Topic, m.Partition}]
		kept[i] = ok && m.Offset <= last
	}
	return kept
}
