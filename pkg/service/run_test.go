package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/service"
)

// recorder notes the order in which parts stop.
type recorder struct {
	mu    sync.Mutex
	order []string
}

func (r *recorder) part(name string, fail error, started *sync.WaitGroup) service.Part {
	started.Add(1)
	return service.Part{Name: name, Run: func(ctx context.Context) error {
		started.Done()
		if fail != nil {
			return fail
		}
		<-ctx.Done()
		r.mu.Lock()
		r.order = append(r.order, name)
		r.mu.Unlock()
		return ctx.Err()
	}}
}

func TestRunStopsInOrder(t *testing.T) {
	var rec recorder
	var started sync.WaitGroup
	parts := []service.Part{rec.part("input", nil, &started), rec.part("writer", nil, &started), rec.part("http", nil, &started)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, zerolog.Nop(), 5*time.Second, parts...) }()
	started.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if got := strings.Join(rec.order, ","); got != "input,writer,http" {
		t.Errorf("stop order = %s, want input,writer,http", got)
	}
}

func TestRunPartFailure(t *testing.T) {
	var rec recorder
	var started sync.WaitGroup
	boom := errors.New("boom")
	parts := []service.Part{rec.part("input", nil, &started), rec.part("writer", boom, &started)}
	err := service.Run(context.Background(), zerolog.Nop(), 5*time.Second, parts...)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "writer") {
		t.Fatalf("Run = %v, want writer: boom", err)
	}
}

func TestRunShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := service.Part{Name: "stuck", Run: func(ctx context.Context) error {
		<-release
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := service.Run(ctx, zerolog.Nop(), 50*time.Millisecond, stuck)
	if err == nil || !strings.Contains(err.Error(), "stuck did not stop") {
		t.Fatalf("Run = %v, want deadline error naming the part", err)
	}
}
