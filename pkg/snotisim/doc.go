// Package snotisim is a protocol-faithful Gizwits SNoti server for
// development, tests and benchmarks (shared/reference/snoti.md).
//
// A Server speaks v1 and v2 on one TLS port (the first command decides),
// checks credentials (a refused login gets result false, then the
// connection is closed), keeps one queue per v1 enterprise and per v2
// product_key+subkey, shares a queue round-robin between the connections
// consuming it, enforces each connection's prefetch_count, redelivers a
// connection's un-ACKed messages only after it drops, and stores messages
// while nobody is connected.
//
// Every pushed event carries "sim_seq", the simulator's sequence number of
// the event, so a test can follow it end to end. The Ledger records, per
// message (one event routed to one queue), when it was first pushed, how
// many times, and when it was ACKed, plus counters such as ACKs for unknown
// delivery ids (what a client ACKing stale ids after a reconnect produces).
//
// Events come from Publish (tests), from the virtual-device Fleet (N devices
// over M products at a configured rate, optionally stopping after a number
// of events), and the Faults can drop connections, delay pushes, and inject
// malformed or over-long lines, set at start or through the HTTP control
// API (Server.Handler).
//
// In a test:
//
//	srv, err := snotisim.New(snotisim.Config{Addr: "127.0.0.1:0", Products: ...}, log)
//	err = srv.Start()
//	defer srv.Close(ctx)
//	// client: Addr srv.Addr(), CAFile a file holding srv.CertPEM()
//	seq, err := srv.Publish(snotisim.Event{...}) // or Config.Fleet with MaxEvents
//	sum, err := srv.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks == n })
//	entries := srv.Entries() // per message: Seq, FirstPush, Pushes, Acked
package snotisim
