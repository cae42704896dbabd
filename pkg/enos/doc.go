// Package enos is a client for the EnOS real-time message integration API:
// the APIM access-token service (get and refresh, with the sha256 request
// signature) and the integration endpoints that take measurement points,
// attributes and events of devices as a multipart "enos-message".
//
// A Post call splits its entries into messages under Config.MaxMessageBytes
// (default 500,000 bytes, below both readings of EnOS's "512 KB": 512,000
// and 524,288), sends them, and reports an outcome per entry (Result). Failures are classified
// with package sinkerr: a sink that is down or busy (5xx, 429, timeouts,
// network errors, code 1005) yields retryable errors and the remaining
// entries are not attempted; a message the API rejects as bad is bisected
// until the bad entries are isolated, and only those carry permanent errors.
// A rejected or expired token (HTTP 401, code 1203) is renewed and the request
// retried once.
package enos
