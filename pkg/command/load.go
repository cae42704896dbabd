package command

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

// Load reads back the results topic over the dedupe window and remembers
// every command id found, so that a restarted or rebalanced sender never
// sends again what was already answered. Call it before the consumer
// starts; it returns the number of results read.
func (s *Sender) Load(ctx context.Context, kcfg kafkaconf.Config) (int, error) {
	client, err := kcfg.Client()
	if err != nil {
		return 0, err
	}
	from := s.cfg.Now().Add(-s.cfg.DedupeWindow)
	plan, err := replay.Resolve(ctx, client, []string{s.topic}, replay.AtTime(from), replay.Latest())
	if err != nil {
		return 0, fmt.Errorf("reading back %s: %w", s.topic, err)
	}
	sc := replay.NewScanner(kcfg, plan, 1024, s.log)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return sc.Run(gctx) })
	n := 0
	for m := range sc.Messages() {
		var r records.CommandResult
		if err := s.codec.Unmarshal(m.Value, &r); err != nil || r.CommandID == "" {
			s.log.Warn().Err(err).Int("partition", m.Partition).Int64("offset", m.Offset).Msg("skipping an unreadable command result")
			continue
		}
		at := r.AnsweredAt
		if at.IsZero() {
			at = m.Time
		}
		s.Remember(r.CommandID, at)
		n++
	}
	if err := g.Wait(); err != nil {
		return n, fmt.Errorf("reading back %s: %w", s.topic, err)
	}
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	s.log.Info().Int("results", n).Dur("window", s.cfg.DedupeWindow).Msg("answered commands loaded")
	return n, nil
}
