// Package ingest is the SNoti → Kafka pipeline of the ingest service: it
// takes the pushes of one or more snoti.Clients, turns each into a
// records.SnotiEvent (ToEvent, keyed by RecordKey), writes them in batches
// through a durable Writer (kafka-go, acks=all) and ACKs each push only
// once Kafka acknowledged its record.
//
// The contract every later stage relies on:
//
//   - Never ACK what Kafka did not acknowledge; ACK every push Kafka did.
//     A push is ACKed (Push.Ack) only after WriteMessages returned success
//     for its record, in batch order. A write Kafka refuses is retried with
//     capped exponential backoff and jitter (cenkalti/backoff, at most
//     Config.RetryBackoffMax apart) for as long as it takes; nothing is ACKed
//     meanwhile and SNoti stops pushing once its prefetch is reached, so the
//     pipeline's queue is bounded by Config.MaxUnacked.
//   - A record's key is the push's did (product_key when it has none), so a
//     device's events stay in order on one partition; one ordered write path
//     keeps that order, also across retries.
//   - Every push becomes a record, whatever its fields: unknown event types
//     keep their members in Attributes and the whole line in RawJSON. The
//     record's event_id is the push's (snoti.Push.EventID), the same across
//     redeliveries, which is what lets later stages drop duplicates.
//   - Lines that cannot be events (snoti.Invalid), records that cannot be
//     encoded and records too large for their topic become dead letters in
//     Config.TopicInvalid (shrunk to a reference to the line if even that is
//     too large) and their pushes are ACKed once the dead letter is durable:
//     a bad record never blocks a partition or holds a prefetch slot.
//   - Shutdown drains: once Run's ctx ends, later pushes are left to SNoti's
//     redelivery, what the pipeline holds is written and ACKed within
//     Config.DrainTimeout, the ACKs are flushed, then the connections close. What
//     is not durable by then is not ACKed; SNoti redelivers it and the
//     duplicate is dropped downstream by event_id.
//
// The library reads no environment: services/ingest maps its variables
// onto Config and registers Metrics.
package ingest
