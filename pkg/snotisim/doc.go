// Package snotisim is a protocol-faithful Gizwits SNoti server for
// development, tests and benchmarks (shared/reference/snoti.md).
//
// A Server speaks v1 and v2 on one TLS port (the first login decides),
// following the official SNoti API doc v2.5.0 and the v1 protocol doc (the
// fixtures in pkg/snoti/testdata/doc are checked against both sides): it
// checks credentials (a refused login gets result false, then the
// connection is closed), accepts a login with "data":[] followed by
// subscribe_req, answers commands before login with invalid_msg 4001 (4003
// after ForgetLogins) and a second login with 4009, keeps one queue per v1
// enterprise and per v2 product_key+subkey that gets only the event types
// subscribed to, shares a queue round-robin between the connections
// consuming it, enforces each connection's prefetch_count, redelivers a
// connection's un-ACKed messages only after it drops, stores messages while
// nobody is connected, and drops a client silent for Config.IdleTimeout
// after the line "No Heartbeat!".
//
// Delivery ids are scoped to a connection (each counts from 1), as the
// real server's: an ACK of an id the connection was never sent is counted
// as stale, and with Faults.StallOnStaleAck stops that connection's pushes.
// With Config.Trace every push carries "sim_seq", the simulator's sequence
// number of the event, so a test can follow it end to end (the real server
// has no such field). The Ledger records, per message (one event routed to
// one queue), when it was first pushed, how many times, and when it was
// ACKed, plus counters such as stale and repeated ACKs.
//
// Events come from Publish (tests), from the virtual-device Fleet (N devices
// over M products at a configured rate, from Start or from the first login,
// optionally stopping after a number of events), and the Faults can drop connections, delay pushes, and inject
// malformed or over-long lines, set at start or through the HTTP control
// API (Server.Handler).
//
// In a test (package simtest does the first four lines):
//
//	srv, err := snotisim.New(snotisim.Config{Addr: "127.0.0.1:0", Products: ...}, log)
//	err = srv.Start()
//	defer srv.Close(ctx)
//	// client: Addr srv.Addr(), CAFile a file holding srv.CertPEM()
//	seq, err := srv.Publish(snotisim.Event{...}) // or Config.Fleet with MaxEvents
//	sum, err := srv.WaitFor(ctx, func(s snotisim.Summary) bool { return s.Acks == n })
//	entries := srv.Entries() // per message: Seq, FirstPush, Pushes, Acked
package snotisim
