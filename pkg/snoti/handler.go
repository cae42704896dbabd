package snoti

// Handler receives what a connection reads. Both methods are called from
// the connection's reading goroutine, one call at a time, in wire order.
// They must return quickly (hand the work to another goroutine): while a
// call runs nothing else is read, pongs included, so a handler that blocks
// longer than Config.PongTimeout gets its connection declared dead.
// Outstanding pushes are bounded by Config.Prefetch, so a channel of that
// capacity between the handler and the worker never blocks.
type Handler interface {
	HandlePush(p *Push)
	HandleInvalid(inv Invalid)
}

// HandlerFuncs adapts two functions to Handler; a nil function ignores its
// calls (a nil OnPush would leave every push un-ACKed: set it).
type HandlerFuncs struct {
	OnPush    func(p *Push)
	OnInvalid func(inv Invalid)
}

// HandlePush calls OnPush.
func (h HandlerFuncs) HandlePush(p *Push) {
	if h.OnPush != nil {
		h.OnPush(p)
	}
}

// HandleInvalid calls OnInvalid.
func (h HandlerFuncs) HandleInvalid(inv Invalid) {
	if h.OnInvalid != nil {
		h.OnInvalid(inv)
	}
}
