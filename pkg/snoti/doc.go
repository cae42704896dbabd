// Package snoti is a production client for the Gizwits SNoti push service
// (protocol v1 enterprise login and v2 product login, see
// shared/reference/snoti.md).
//
// A Client keeps one TLS connection alive forever: it dials, logs in, reads
// newline-framed JSON messages of any length up to Config.MaxLineBytes, hands
// every push to a Handler together with an Ack method, writes ACKs in the
// order the caller completes them, pings when it has been idle, and
// reconnects with capped exponential backoff and jitter.
//
// The delivery contract the ingest service relies on:
//
//   - Every push is delivered to Handler.HandlePush with its exact original
//     line (Push.Raw) and its delivery_id and msg_id kept as raw JSON, echoed
//     byte-for-byte in the ACK whatever their JSON type.
//   - Push.Ack may be called once, from any goroutine, after the caller's own
//     work is durable. ACKs never block the reading goroutine.
//   - delivery ids are scoped to one connection. When a connection is lost,
//     its pending ACKs are dropped (counted in Stats.AcksDropped) and never
//     written to the next connection; the server redelivers those pushes.
//   - Every line that is a JSON object with a delivery_id (a number or a
//     string) is a push, whatever its other members hold: numbers where
//     strings were expected, objects, nulls, event types this version does
//     not know. Push.EventID identifies the event across redeliveries.
//   - Lines that are not JSON objects, pushes without a delivery_id and lines
//     longer than Config.MaxLineBytes go to Handler.HandleInvalid with a
//     reason; they never stop the connection. An over-long push whose
//     delivery_id could be read is ACKed by Invalid.Ack once quarantined.
//   - When the server says the connection is not logged in (invalid_msg
//     4001 or 4003), the client logs in again on the same connection; ACKs
//     of pushes delivered before are dropped as after a reconnect (the
//     server requeued them). 4009 (already logged in) needs nothing.
//   - The server's bare "No Heartbeat!" line ends the connection (counted
//     as a disconnect of reason no_heartbeat) and the client reconnects;
//     it is not an invalid line.
//
// Subscribe and Unsubscribe follow the official doc's replies (result and
// msg at the top level); a refused subscription is returned as a
// *ReplyError and never remembered for later logins. RemoteControl sends
// the doc's remote_control_v2_req (source "noti", binary_coding inside each
// command's data, binary data as byte arrays by default).
package snoti
