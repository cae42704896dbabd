package consume

import "context"

type replayKey struct{}

// WithReplay marks ctx as carrying historical records: a replay (package
// replay) marks the context of every Handle call, so a handler shared with
// a live forwarder can tell a backfill from the live stream.
func WithReplay(ctx context.Context) context.Context {
	return context.WithValue(ctx, replayKey{}, true)
}

// IsReplay reports whether ctx was marked by WithReplay.
func IsReplay(ctx context.Context) bool {
	v, _ := ctx.Value(replayKey{}).(bool)
	return v
}
