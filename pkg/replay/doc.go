// Package replay reads a range of Kafka records with its own partition
// readers — never a consumer group, so no live group's offsets move — and
// pushes them through a sink's consume.Handler via consume.Processor, the
// same code and the same retry and dead-letter rules as the live stages.
// Batches are collected by consume.Batching, each record's fate comes
// from the Processor's outcomes, and progress moves by the consumers'
// commit rule (consume.ContiguousDone).
//
// A replay is planned first (Resolve: per partition, a start and an end
// offset found by ListOffsets from timestamps or given as offsets), then run
// by an Engine that keeps its progress — per partition, the next offset to
// process — in a small State file written atomically, so an interrupted
// replay started again with the same parameters continues where it stopped.
// Progress is at-least-once: after a crash the records of the last batch may
// be sent again (sinks drop duplicates by event_id).
//
// Times select by the Kafka record timestamp (when the record was written)
// unless Config.TimeOf says otherwise: a replay by device time scans the
// Kafka-time range DeviceTimeScan returns and keeps the records whose
// DeviceTime (created_at) is in the range.
//
// Sinks are registered by name in a Sinks table; a SinkFactory builds the
// handler when a replay needs it and learns from SinkEnv.Replay (and from
// consume.IsReplay on every Handle call's context) that records are historical, so
// that, for example, EnOS backfills are flagged as non-realtime.
package replay
