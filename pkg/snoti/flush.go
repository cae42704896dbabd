package snoti

import (
	"context"
)

// FlushAcks waits until every ACK queued (by Push.Ack) before the call has
// been written to the current connection, so that a graceful shutdown can
// close the connection without dropping ACKs of work it finished. It
// returns nil at once when no connection is logged in (nothing to flush:
// those ACKs were dropped with their connection), ErrNotConnected when the
// connection is lost before the flush, and ctx.Err() when ctx ends first.
// Safe from any goroutine.
func (c *Client) FlushAcks(ctx context.Context) error {
	cn := c.cur.Load()
	if cn == nil {
		return nil
	}
	barrier := make(chan struct{})
	if !cn.enqueue(outItem{barrier: barrier}) {
		return nil
	}
	select {
	case <-barrier:
		return nil
	case <-cn.done:
		return ErrNotConnected
	case <-ctx.Done():
		return ctx.Err()
	}
}
