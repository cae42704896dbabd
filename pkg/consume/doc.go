// Package consume is the forwarding machinery every consuming stage shares:
// the decoder, the EnOS and Energisme forwarders and bridgectl's redrive.
//
// A Runner reads a consumer group with kafka-go (FetchMessage, never
// ReadMessage), hands batches to a Handler, and commits a partition only up
// to the last message before which everything is done. Each message's
// outcome is classified with sinkerr: success; retryable (the sink is down
// or busy — the runner retries with capped exponential backoff and jitter,
// honouring Retry-After, and fetches nothing new meanwhile, so lag grows and
// Kafka holds the data); or permanent (the record itself is bad — it is
// written to the stage's dead-letter topic with the reason and the original
// record, and the stream moves on). Duplicates are dropped by event_id within
// a bounded window, also when both copies are in one batch. Retries of
// every stage go through Retry (cenkalti/backoff, at most a few seconds
// apart, so a sink that is back is used soon).
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
// commits only the contiguous done prefix, pausing fetches when too much is
// pending.
package consume
