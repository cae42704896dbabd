package sinkerr

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps the delay a sink can ask for, so that a wrong or
// hostile header cannot stall a consumer for days.
const MaxRetryAfter = time.Hour

// ParseRetryAfter reads an HTTP Retry-After value, either delay-seconds or an
// HTTP date, relative to now, capped at MaxRetryAfter. It returns zero for an
// empty, malformed or past value, so a caller falls back to its own backoff.
func ParseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return min(d, MaxRetryAfter)
	}
	return 0
}
