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
	cn.mu.Lock()
	if cn.closed {
		cn.mu.Unlock()
		return nil
	}
	cn.queue = append(cn.queue, outItem{barrier: barrier})
	cn.mu.Unlock()
	cn.signal()
	select {
	case <-barrier:
		return nil
	case <-cn.done:
		return ErrNotConnected
	case <-ctx.Done():
		return ctx.Err()
	}
}
