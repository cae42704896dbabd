package energisme

import "fmt"

// HTTPError is a non-2xx answer from Energisme. Permanent failures (4xx
// other than 408 and 429) carry it so the dead letter can record the status
// and the response body.
type HTTPError struct {
	StatusCode int
	// Body is the start of the response body (at most 4 KB).
	Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Body)
}
