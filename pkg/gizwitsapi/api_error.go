package gizwitsapi

import (
	"errors"
	"fmt"
)

// Error codes of the Enterprise API that the client branches on.
const (
	CodeTokenInvalid     = 5009
	CodeTokenNotMatch    = 5010
	CodeTokenExpired     = 5011
	CodeIPNotWhitelisted = 5012
	CodeRateLimited      = 5013
	CodeDeviceNotExist   = 5301
	CodeDeviceOffline    = 5305
	CodeAttrInvalid      = 5401
	CodeSendFailed       = 5403
	CodeControlDenied    = 5404
	CodeRawDataError     = 5408
)

// APIError is a refusal by the Enterprise API: its HTTP status and, when the
// body had them, its error code and message.
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Gizwits Enterprise API: HTTP %d", e.Status)
	if e.Code != 0 {
		msg += fmt.Sprintf(" error_code %d", e.Code)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Code == CodeIPNotWhitelisted {
		msg += " (add this host's egress IP to the enterprise's whitelist in the Gizwits console)"
	}
	return msg
}

// Temporary reports whether trying again later may succeed: server errors,
// rate limiting and a command the cloud failed to send.
func (e *APIError) Temporary() bool {
	return e.Status >= 500 || e.Status == 429 || e.Code == CodeRateLimited || e.Code == CodeSendFailed
}

// tokenRejected reports whether err says the token itself is no longer good.
func tokenRejected(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case CodeTokenInvalid, CodeTokenNotMatch, CodeTokenExpired:
		return true
	}
	return false
}

// CodeOf returns the API error code in err's chain, 0 when there is none.
func CodeOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}
