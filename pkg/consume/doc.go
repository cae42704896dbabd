// Package consume is the forwarding machinery every consuming stage shares:
// the decoder, the EnOS and Energisme forwarders and bridgectl's redrive.
//
// A Runner reads a consumer group with kafka-go (FetchMessage, never
// ReadMessage), collects batches (Batching.Collect, also replay's
// collector: a batch ends when full, when nothing more arrived within a
// 1 ms linger, or 20 ms after its first message), hands them to a
// Processor and commits a partition only up to the last message before
// which everything is done (ContiguousDone). Commits run in the background
// (the committer, shared with the AsyncRunner: merged per partition, at
// most one per CommitInterval, a failed one retried, the rest committed at
// stop), so the next batch is fetched without waiting for the last one's
// commit; a batch with a message not done is a runner's last, so nothing
// past that message is ever committed. The Processor
// is the stage's Handler wrapped in middlewares, one concern a file
// (Watermill's style): Retrying, Deduplicating, DeadLettering. Each
// message's error is classified with sinkerr: success; retryable (the sink
// is down or busy — Retrying tries again with capped exponential backoff
// and jitter, honouring Retry-After, and nothing new is fetched meanwhile,
// so lag grows and Kafka holds the data); or permanent (the record itself
// is bad — DeadLettering writes it to the stage's dead-letter topic with
// the reason and the original record, and the stream moves on).
// Deduplicating drops duplicates by event_id within a bounded window, also
// when both copies are in one batch. Process reports an Outcome per
// message (Sent, Duplicate, DeadLettered with the error, or Failed), in the
// spirit of Benthos's per-message BatchError, so callers such as replay
// learn each record's fate without wrapping the handler. Retries of every
// stage go through Retry (cenkalti/backoff, at most a few seconds apart,
// so a sink that is back is used soon).
//
// Kafka being unreachable never ends a runner: the reader rejoins the group
// for as long as it takes, and Ready reports the outage meanwhile. Each
// runner polls the lag of the partitions assigned to it (committed offset
// against log end, GroupLag) into snotibridge_consumer_lag; that poll is
// also how it knows Kafka answers.
//
// An AsyncRunner serves handlers that hold messages for a while before they
// are done (the Energisme file export keeps a window of rows for minutes):
// a Tracker records completion per partition in any order and the runner
// commits only the contiguous done prefix (the rule of ContiguousDone),
// through the same committer, pausing fetches when too much is pending.
//
// Across a rebalance both runners are at-least-once: a commit still
// pending when a partition moves is sent by kafka-go with the next
// generation and accepted (the broker checks the generation, not the
// assignment), and it only ever covers messages this member finished (at
// worst it moves the new owner's offset back). The new owner is delivered
// again what this member finished and had not yet committed — at most a
// CommitInterval's worth more than with a commit per batch — as after a
// crash: duplicates, dropped by event_id where a member has seen them,
// sent again otherwise. Nothing is committed that is not done, so nothing
// is lost. Such a handler retries its
// uploads through Retry with a Backoff, like the other stages.
// Keyed is such a handler for one-message-at-a-time sinks (the Energisme
// push): per-key lanes over a few workers, so a slow or failing key holds
// back only its own later messages, with Retry's backoff and
// Deduplicating's event_id rule.
package consume
