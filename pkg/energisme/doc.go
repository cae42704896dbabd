// Package energisme is a client for the Energisme HTTP push channel: one
// POST per device uplink, carrying the raw payload as hex for Energisme to
// decode with its own decoder for the device type.
//
// Failures are classified with package sinkerr: 408, 429 (with its
// Retry-After), 5xx and network errors are retryable; so are 401 and 403
// (ErrUnauthorized), because a wrong token fails every uplink and must not
// flood the DLQ; any other 4xx is permanent and its *HTTPError carries the
// status and response body for the dead letter.
package energisme
