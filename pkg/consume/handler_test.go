package consume_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
)

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) consume.Middleware {
		return func(next consume.Handler) consume.Handler {
			return consume.HandlerFunc(func(ctx context.Context, ms []kafka.Message) []error {
				order = append(order, name)
				return next.Handle(ctx, ms)
			})
		}
	}
	h := consume.HandlerFunc(func(_ context.Context, ms []kafka.Message) []error {
		order = append(order, "h")
		return make([]error, len(ms))
	})
	consume.Chain(h, mw("a"), mw("b")).Handle(context.Background(), msgs(1))
	if fmt.Sprint(order) != "[a b h]" {
		t.Errorf("order %v, want [a b h]", order)
	}
}
