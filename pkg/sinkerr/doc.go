// Package sinkerr classifies the outcome of a call to a sink (EnOS,
// Energisme, an SFTP server) as retryable or permanent, so that the consumer
// runner can branch on it: a retryable failure means "the sink is down or
// busy, hold the partition and try again later" and never sends a record to
// a dead-letter topic; a permanent failure means "this record is bad, retrying
// cannot fix it" and sends it to the DLQ.
//
// Sink clients wrap their failures with NewRetryable or NewPermanent; callers
// test them with Retryable, IsPermanent or Classify, or with errors.Is against
// ErrRetryable and ErrPermanent. Wrapping with fmt.Errorf("…: %w") keeps the
// class.
package sinkerr
