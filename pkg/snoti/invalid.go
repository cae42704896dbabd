package snoti

// Invalid is a line from the server that cannot be handled as a push: not
// JSON, a push without a usable delivery_id, or a line over the length
// limit. Such lines cannot be ACKed (a push without delivery_id has nothing
// to echo; an over-long one keeps its prefetch slot until the connection is
// replaced). The connection carries on.
type Invalid struct {
	// Line is the line without its terminator; for an over-long line, only
	// its first 64 KiB.
	Line []byte
	// Reason says what is wrong, for logs and dead-letter records.
	Reason string
	// Kind is a short stable label for metrics: InvalidJSON,
	// InvalidNoDeliveryID or InvalidTooLong.
	Kind string
}

// Kinds of Invalid.
const (
	InvalidJSON         = "invalid_json"
	InvalidNoDeliveryID = "no_delivery_id"
	InvalidTooLong      = "too_long"
)
