package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// A fault is one kind of injected failure. run carries it out, recovery
// included (a killed program restarted, an outage ended); its parameters
// are drawn beforehand from the seeded generator.
type fault struct {
	kind   string
	target string // at most one fault per target at a time
	run    func(ctx context.Context, p params) error
}

type params struct {
	down      time.Duration // outage length
	partition int           // of the events topic, whose leader is killed
	every     int           // a malformed line after every N pushes
	latency   time.Duration
	retry     time.Duration // Retry-After
}

var client = &http.Client{Timeout: 10 * time.Second}

// call sends one request to a simulator's control API; a status ≥ 300 is
// an error unless allowed.
func call(ctx context.Context, method, url, body string, allowed ...int) error {
	var r io.Reader
	if body != "" {
		r = bytes.NewBufferString(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode >= 300 {
		for _, a := range allowed {
			if resp.StatusCode == a {
				return nil
			}
		}
		return fmt.Errorf("%s %s: %s %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// wait waits d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *stack) sinkURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", s.plan.Ports.Sink, path)
}

func (s *stack) snotiURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/sim%s", s.plan.Ports.SimControl, path)
}

// faults is every kind the chaos injects.
func (s *stack) faults() []fault {
	var fs []fault
	for _, name := range []string{"ingest", "decoder", "enos-forwarder", "energisme-forwarder"} {
		fs = append(fs, fault{kind: "kill -9 " + name, target: name, run: func(_ context.Context, p params) error {
			if !s.kill(name, p.down) {
				return fmt.Errorf("%s was down already", name)
			}
			return nil
		}})
	}
	fs = append(fs,
		fault{kind: "kill -9 partition leader", target: "broker", run: s.killLeader},
		fault{kind: "SNoti connections dropped", target: "snoti-drop", run: func(ctx context.Context, _ params) error {
			return call(ctx, http.MethodPost, s.snotiURL("/connections/drop"), "")
		}},
		fault{kind: "SNoti malformed lines", target: "snoti-faults", run: func(ctx context.Context, p params) error {
			if err := call(ctx, http.MethodPut, s.snotiURL("/faults"), fmt.Sprintf(`{"malformed_every":%d}`, p.every)); err != nil {
				return err
			}
			wait(ctx, p.down)
			return call(context.WithoutCancel(ctx), http.MethodPut, s.snotiURL("/faults"), `{}`)
		}},
		s.sinkFault("EnOS 503", "enos", "/sim/enos/faults", func(p params) string { return fmt.Sprintf(`{"status":503,"forMs":%d}`, p.down.Milliseconds()) }),
		s.sinkFault("EnOS 429", "enos", "/sim/enos/faults", func(p params) string {
			return fmt.Sprintf(`{"status":429,"forMs":%d,"retryAfterMs":%d}`, p.down.Milliseconds(), p.retry.Milliseconds())
		}),
		s.sinkFault("EnOS slow answers", "enos", "/sim/enos/faults", func(p params) string { return fmt.Sprintf(`{"latencyMs":%d}`, p.latency.Milliseconds()) }),
		fault{kind: "EnOS token expiry", target: "enos-token", run: func(ctx context.Context, _ params) error {
			return call(ctx, http.MethodPost, s.sinkURL("/sim/enos/tokens/expire"), "")
		}},
		s.sinkFault("Energisme 503", "energisme", "/sim/energisme/faults", func(p params) string { return fmt.Sprintf(`{"status":503,"forMs":%d}`, p.down.Milliseconds()) }),
		s.sinkFault("Energisme 429", "energisme", "/sim/energisme/faults", func(p params) string {
			return fmt.Sprintf(`{"status":429,"forMs":%d,"retryAfterMs":%d}`, p.down.Milliseconds(), p.retry.Milliseconds())
		}),
		fault{kind: "SFTP down", target: "sftp", run: func(ctx context.Context, p params) error {
			if err := call(ctx, http.MethodPost, s.sinkURL("/sim/sftp/stop"), ""); err != nil {
				return err
			}
			wait(ctx, p.down)
			return call(context.WithoutCancel(ctx), http.MethodPost, s.sinkURL("/sim/sftp/start"), "")
		}},
	)
	return fs
}

// sinkFault sets one of sink-sim's fault configurations for p.down, then
// clears it.
func (s *stack) sinkFault(kind, target, path string, body func(params) string) fault {
	return fault{kind: kind, target: target, run: func(ctx context.Context, p params) error {
		if err := call(ctx, http.MethodPost, s.sinkURL(path), body(p)); err != nil {
			return err
		}
		wait(ctx, p.down)
		return call(context.WithoutCancel(ctx), http.MethodDelete, s.sinkURL(path), "")
	}}
}

// killLeader kills -9 the node leading one partition of the events topic
// (one the ingest is writing to), restarts it after p.down and waits until
// it is back in every ISR, so that one node at most is ever behind.
func (s *stack) killLeader(ctx context.Context, p params) error {
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	leader, err := s.cluster.Leader(lctx, topicEvents, p.partition)
	if err != nil {
		return err
	}
	s.log("fault: node %d (leader of %s/%d) killed -9 for %s", leader.ID(), topicEvents, p.partition, p.down.Round(time.Millisecond))
	leader.Kill()
	wait(ctx, p.down)
	if err := leader.Start(); err != nil {
		return fmt.Errorf("restarting node %d: %w", leader.ID(), err)
	}
	return s.waitISR(context.WithoutCancel(ctx))
}

func (s *stack) waitISR(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, t := range []string{topicEvents, topicTelemetry} {
		if err := s.cluster.WaitISR(ctx, t, 3); err != nil {
			return err
		}
	}
	return nil
}

// injector runs faults until the injection ends.
type injector struct {
	s      *stack
	ended  time.Time // when the last fault was injected and the injection stopped
	rng    *rand.Rand
	mu     sync.Mutex
	busy   map[string]bool
	counts map[string]int
	errors []string
	wg     sync.WaitGroup
}

// inject injects a fault about every faultEvery (±50 %) until ctx ends,
// then waits for the faults under way to recover. The kinds come in
// rounds, each a seeded shuffle of all of them, so every kind is injected
// once before any is injected twice; a kind whose target is still busy
// waits for the next turn.
func (s *stack) inject(ctx context.Context, seed uint64) *injector {
	in := &injector{s: s, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), busy: map[string]bool{}, counts: map[string]int{}}
	all := s.faults()
	var queue []fault
	for {
		wait(ctx, time.Duration(float64(s.cfg.faultEvery)*(0.5+in.rng.Float64())))
		if ctx.Err() != nil {
			break
		}
		if len(queue) == 0 {
			queue = append(queue, all...)
			in.rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
		}
		p := params{
			down:      time.Duration(3+in.rng.IntN(10)) * time.Second,
			partition: in.rng.IntN(6),
			every:     5 + in.rng.IntN(25),
			latency:   time.Duration(1000+in.rng.IntN(6000)) * time.Millisecond,
			retry:     time.Duration(1000+in.rng.IntN(2000)) * time.Millisecond,
		}
		in.mu.Lock()
		i := 0
		for i < len(queue) && in.busy[queue[i].target] {
			i++
		}
		if i == len(queue) {
			in.mu.Unlock()
			continue
		}
		f := queue[i]
		queue = append(queue[:i], queue[i+1:]...)
		if f.target == "broker" || f.target == "ingest" || f.target == "decoder" || f.target == "enos-forwarder" || f.target == "energisme-forwarder" {
			p.down = time.Duration(1000+in.rng.IntN(7000)) * time.Millisecond
		}
		in.busy[f.target] = true
		in.counts[f.kind]++
		in.mu.Unlock()
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			if f.target != "broker" {
				s.log("fault: %s (%s)", f.kind, p.describe(f))
			}
			err := f.run(ctx, p)
			in.mu.Lock()
			defer in.mu.Unlock()
			in.busy[f.target] = false
			if err != nil {
				in.errors = append(in.errors, fmt.Sprintf("%s: %v", f.kind, err))
				s.log("fault %s: %v", f.kind, err)
			}
		}()
	}
	in.ended = time.Now()
	in.wg.Wait() // the faults under way recover: restarts, a node back in the ISRs
	return in
}

func (p params) describe(f fault) string {
	switch f.kind {
	case "SNoti connections dropped", "EnOS token expiry":
		return "once"
	case "SNoti malformed lines":
		return fmt.Sprintf("one after every %d pushes for %s", p.every, p.down)
	case "EnOS slow answers":
		return fmt.Sprintf("%s per request for %s", p.latency, p.down)
	case "EnOS 429", "Energisme 429":
		return fmt.Sprintf("for %s, Retry-After %s", p.down, p.retry)
	}
	return "for " + p.down.Round(time.Millisecond).String()
}

// clear ends every fault the simulators may still inject.
func (s *stack) clear(ctx context.Context) error {
	for _, c := range []struct{ method, url, body string }{
		{http.MethodDelete, s.sinkURL("/sim/enos/faults"), ""},
		{http.MethodDelete, s.sinkURL("/sim/energisme/faults"), ""},
		{http.MethodPut, s.snotiURL("/faults"), "{}"},
	} {
		if err := call(ctx, c.method, c.url, c.body); err != nil {
			return err
		}
	}
	return call(ctx, http.MethodPost, s.sinkURL("/sim/sftp/start"), "", http.StatusConflict)
}

// summary is the faults by kind, in a stable order.
func (in *injector) summary() (kinds []string, total int) {
	for k := range in.counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		total += in.counts[k]
	}
	return kinds, total
}
