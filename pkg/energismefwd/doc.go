// Package energismefwd is the Energisme forwarder's logic, shared by
// services/energisme-forwarder and bridgectl's replays.
//
// Two independent paths, each with its own consumer group:
//
//   - HTTP push (PushHandler, a consume.Handler): every device_status_raw
//     event of snoti.events.v1 becomes one POST carrying the raw bytes as
//     hex, with the device id and devicetype from a Mapping. Requests run
//     concurrently across devices and in order within a device
//     (consume.PerKey). Other event types are done without sending.
//     Products not in the mapping are skipped (counted and logged) or
//     dead-lettered, never silently dropped. The mapping file is reloaded
//     when it changes (OpenMapping, PushHandler.WatchMapping).
//   - Flat files (FileExporter, a consume.AsyncHandler): decoded telemetry
//     of device.telemetry.v1 becomes rows (module, timestamp, value)
//     gathered per partition over a window and uploaded as one file per
//     partition per window with package sftpexport. The file is named
//     after the offsets it covers, so a retried upload replaces it, and a
//     window's messages are reported done only after the rename succeeded:
//     offsets are committed only for rows that are on the server.
package energismefwd
