package testkit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// StopTimeout is how long the stop of RunInProcess waits for the service
// to return.
const StopTimeout = time.Minute

// RunInProcess runs a service's run function (its main without the
// process: configuration given, logger built) in a goroutine until the
// returned stop is called, or the test ends. stop cancels run's context
// and waits for it to return; an error from run, or run still going after
// StopTimeout, fails the test, naming the service. stop may be called more
// than once, and from the test's cleanup.
func RunInProcess(tb testing.TB, name string, run func(ctx context.Context) error) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("%s run: %v", name, err)
				}
			case <-time.After(StopTimeout):
				tb.Errorf("%s did not stop within %s", name, StopTimeout)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}
