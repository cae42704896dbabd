// Package command sends device commands from Kafka to Gizwits devices and
// writes what became of each: the way back from the business systems to the
// chargers, bikes and meters.
//
// A DeviceCommand on device.commands.v1 (key = did) is read by a consumer
// group of its own, handled by Sender — one command at a time per device,
// in order, several devices at once — and answered by one CommandResult on
// device.command-results.v1 (key = did):
//
//   - rejected: the command is malformed (no command_id or did, unknown
//     kind, attrs for a raw kind or the reverse, no path for its product);
//     it is also dead-lettered, with the reason.
//   - expired: expires_at had passed when its turn came; it is not sent.
//   - succeeded / failed: the Path sent it and Gizwits accepted it, or
//     refused it with a reason (offline device, unknown attr, …). Gizwits
//     does not queue commands for offline devices, and neither does this.
//
// A Path that cannot reach Gizwits at all (connection down, 5xx, timeout)
// returns an error: the command is retried with the consumer's backoff, the
// device's later commands wait behind it, and expiry is checked again
// before each attempt.
//
// # Sent once
//
// Results are the record of what was answered. At start, Sender reads the
// results topic back over the dedupe window (Config.DedupeWindow, default
// 24 h) and never sends again a command whose result is there, whatever
// replays or restarts put the command in front of it again. A command sent
// but whose result was not yet written when the process died is the one
// case that can be sent twice; the window bounds the memory the set takes.
//
// # Paths
//
// Two ways reach a device: SNoti v2's remote_control_v2_req, on a
// connection the ingest already holds for the product (a second login with
// the ingest's subkey would split its push stream, a new subkey would open a
// queue nobody reads), and the Gizwits Enterprise API's control call, for
// enterprises on SNoti v1 (EnterpriseAPI). Which one a product uses is the
// configuration's choice (Config.Paths).
package command
