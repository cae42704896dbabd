package snoti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Subscribe adds v2 subscriptions on the live connection (subscribe_req)
// and waits for the server's reply. On success they are also used for
// every later login, so they survive reconnects. It returns
// ErrNotConnected when no connection is logged in or the connection is
// lost before the reply, a *ReplyError when the server refuses (result
// false at the top level of subscribe_res), and ctx.Err() when ctx ends
// first (the request may then still take effect). Only an accepted
// subscription is remembered: a refused one (bad credentials, say) is
// never sent again, so it cannot make a later login fail.
// Calls are serialised: replies carry no id to match them by.
func (c *Client) Subscribe(ctx context.Context, products []Product) error {
	if c.cfg.Protocol != ProtocolV2 {
		return errors.New("snoti: Subscribe needs Config.Protocol v2")
	}
	if err := ValidateProducts(products); err != nil {
		return fmt.Errorf("invalid subscription: %w", err)
	}
	if err := c.request(ctx, "subscribe_req", cmdSubscribeRes, products); err != nil {
		return err
	}
	c.prodMu.Lock()
	defer c.prodMu.Unlock()
	for _, p := range products {
		i := slices.IndexFunc(c.products, func(q Product) bool { return q.ProductKey == p.ProductKey && q.Subkey == p.Subkey })
		if i < 0 {
			c.products = append(c.products, p)
			continue
		}
		for _, e := range p.Events {
			if !slices.Contains(c.products[i].Events, e) {
				c.products[i].Events = append(slices.Clip(c.products[i].Events), e)
			}
		}
	}
	return nil
}

// Unsubscribe removes events of product_key+subkey on the live connection
// (unsubscribe_req; ProductKey, Subkey, AuthID and Events are sent, AuthID
// taken from the remembered subscription when the caller leaves it empty)
// and, once the server accepts, from later logins. A subscription left with
// no event is not sent at login. Errors and concurrency as Subscribe.
func (c *Client) Unsubscribe(ctx context.Context, subs []Product) error {
	if c.cfg.Protocol != ProtocolV2 {
		return errors.New("snoti: Unsubscribe needs Config.Protocol v2")
	}
	wire := c.unsubscribeEntries(subs)
	if err := c.request(ctx, "unsubscribe_req", cmdUnsubscribeRes, wire); err != nil {
		return err
	}
	c.prodMu.Lock()
	defer c.prodMu.Unlock()
	for _, s := range subs {
		for i := range c.products {
			p := &c.products[i]
			if p.ProductKey == s.ProductKey && p.Subkey == s.Subkey {
				p.Events = slices.DeleteFunc(slices.Clone(p.Events), func(e string) bool { return slices.Contains(s.Events, e) })
			}
		}
	}
	c.products = slices.DeleteFunc(c.products, func(p Product) bool { return len(p.Events) == 0 })
	return nil
}

// unsubscribeEntries are the unsubscribe_req entries of subs: product_key,
// subkey, auth_id (the remembered one when subs leave it empty) and events.
func (c *Client) unsubscribeEntries(subs []Product) []Product {
	wire := make([]Product, len(subs))
	c.prodMu.Lock()
	defer c.prodMu.Unlock()
	for i, s := range subs {
		wire[i] = Product{ProductKey: s.ProductKey, Subkey: s.Subkey, AuthID: s.AuthID, Events: s.Events}
		if wire[i].AuthID == "" {
			if j := slices.IndexFunc(c.products, func(q Product) bool { return q.ProductKey == s.ProductKey && q.Subkey == s.Subkey }); j >= 0 {
				wire[i].AuthID = c.products[j].AuthID
			}
		}
	}
	return wire
}

// request sends cmd with data and waits for the reply named replyCmd.
func (c *Client) request(ctx context.Context, cmd, replyCmd string, data any) error {
	c.ctrlMu.Lock()
	defer c.ctrlMu.Unlock()
	cn := c.cur.Load()
	if cn == nil {
		return ErrNotConnected
	}
	line, err := controlLine(cmd, data)
	if err != nil {
		return err
	}
	reply, cancel := cn.register(replyCmd)
	defer cancel()
	if err := cn.send(line); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-cn.done:
		return ErrNotConnected
	case w := <-reply:
		if ok, msg := replyResult(w); !ok {
			return &ReplyError{Cmd: cmd, Msg: msg}
		}
		return nil
	}
}

// controlLine encodes {"cmd":cmd,"data":data} and its "\n".
func controlLine(cmd string, data any) ([]byte, error) {
	line, err := json.Marshal(struct {
		Cmd  string `json:"cmd"`
		Data any    `json:"data"`
	}{cmd, data})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", cmd, err)
	}
	return append(line, '\n'), nil
}

// replyResult reads result and msg of a subscribe_res or unsubscribe_res.
// The official doc puts them at the top level (data echoes the request);
// a reply without a top-level result falls back to a result inside a data
// object, or inside the entries of a data array (all must succeed). A
// reply with no result anywhere is refused: success must be stated.
func replyResult(w *wireMessage) (bool, string) {
	type res struct {
		Result *bool      `json:"result"`
		Msg    flexString `json:"msg"`
	}
	if len(w.Result) > 0 && string(w.Result) != "null" {
		var b bool
		if err := json.Unmarshal(w.Result, &b); err != nil {
			return false, fmt.Sprintf("result %.64s is not a boolean (msg %q)", w.Result, w.Msg)
		}
		return b, w.Msg
	}
	var items []res
	switch {
	case len(w.Data) > 0 && w.Data[0] == '[':
		_ = json.Unmarshal(w.Data, &items)
	case len(w.Data) > 0 && w.Data[0] == '{':
		var r res
		_ = json.Unmarshal(w.Data, &r)
		items = append(items, r)
	}
	stated := false
	for _, r := range items {
		if r.Result == nil {
			continue
		}
		stated = true
		if !*r.Result {
			return false, r.Msg.String()
		}
	}
	if !stated {
		return false, fmt.Sprintf("reply without result (msg %q)", w.Msg)
	}
	return true, ""
}
