package energismefwd

import (
	"context"
	"testing"
	"time"
)

func TestReadyAfterFailingForAMinute(t *testing.T) {
	h := &PushHandler{}
	h.failingSince.Store(time.Now().Add(-FailingFor - time.Second).UnixNano())
	if err := h.Ready(context.Background()); err == nil {
		t.Fatal("ready while every push has failed for over a minute")
	}
	h.failingSince.Store(0)
	if err := h.Ready(context.Background()); err != nil {
		t.Fatalf("not ready once pushes succeed: %v", err)
	}
}
