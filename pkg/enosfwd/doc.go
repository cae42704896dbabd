// Package enosfwd is the EnOS forwarder's logic, shared by the
// enos-forwarder service and bridgectl's replays: a mapping from Gizwits
// products, devices and data points to EnOS ones (Mapping, read from a JSON
// file and validated whole at start, then reloaded when the file changes:
// see OpenMapping and Handler.WatchMapping), and a consume.Handler that turns
// DeviceTelemetry records into measurement points and SnotiEvent records
// (attr_fault, attr_alert, device_online, device_offline) into EnOS events
// or attributes, and posts them with package enos.
//
// Outcomes follow the consume contract, one per record: nil when EnOS
// accepted it (or when the record carries nothing EnOS takes, such as a raw
// status event, whose decoded telemetry arrives on its own topic);
// consume.Reject("no_mapping") for a product or device the mapping does not
// cover; consume.Reject("bad_record") for an undecodable value;
// consume.Reject("enos_rejected") for an entry EnOS itself refused;
// consume.Reject("too_large") for an entry that alone exceeds
// Config.MaxMessageBytes (ENOS_MAX_MESSAGE_BYTES) and is never sent; and the
// client's retryable error, unchanged, when EnOS is down or busy, so that
// the runner holds the batch and retries.
//
// Entries carry the device's time (DeviceTelemetry.Time, SnotiEvent.CreatedAt)
// in epoch milliseconds, or the ingest's receipt time when the device gave
// none. Records older than Config.BackfillAge, every record of a handler
// built for a replay, and every batch whose context consume.IsReplay marks
// are sent with isRealtimeIntegration:false.
//
// Within a batch, entries are posted grouped by kind (measurement points,
// events, attributes), the kinds at once, each in record order, so one
// device's measurement points keep their order; a device's event may reach
// EnOS before a measurement point of the same batch, which EnOS orders by
// time anyway. With Options.Concurrency above 1 (the forwarder's
// ENOS_CONCURRENCY), a large batch is also split into lanes by device,
// posted concurrently, as many as keep the batch within Concurrency
// requests in flight; a device is in one lane only, so its entries of a
// kind still go in order, in one request.
package enosfwd
