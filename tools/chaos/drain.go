package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/segmentio/kafka-go"
)

// drainedWhy says what is not drained yet ("" when all is).
func (s *stack) drainedWhy(ctx context.Context, c *kafka.Client, want uint64) string {
	if !s.allRunning() {
		return "a service or a node is not running"
	}
	sum, err := s.ledger(ctx)
	switch {
	case err != nil:
		return "snoti-sim: " + err.Error()
	case sum.Events < want:
		return fmt.Sprintf("the fleet has published %d of %d events", sum.Events, want)
	case sum.Pending > 0 || sum.Backlog > 0:
		return fmt.Sprintf("%d messages not ACKed (%d not pushed yet)", sum.Pending, sum.Backlog)
	}
	l, err := lags(ctx, c)
	if err != nil {
		return err.Error()
	}
	var behind []string
	for g, v := range l {
		if v > 0 {
			behind = append(behind, fmt.Sprintf("%s %d", g, v))
		}
	}
	if len(behind) > 0 {
		sort.Strings(behind)
		return "lag " + strings.Join(behind, ", ")
	}
	return ""
}
