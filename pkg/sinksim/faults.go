package sinksim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultConfig describes the faults an emulator injects into its data
// endpoints (token endpoints are not affected). The zero value injects none.
// Over HTTP it is JSON with the fields errorRate, errorStatus, latencyMs,
// status, next, forMs and retryAfterMs.
type FaultConfig struct {
	// ErrorRate is the fraction (0..1) of requests answered with ErrorStatus.
	ErrorRate float64
	// ErrorStatus is the status of ErrorRate failures (default 500).
	ErrorStatus int
	// Latency delays every request.
	Latency time.Duration
	// Status, when set, answers requests with this status (5xx, 429, …)
	// during the window: the next Next requests if Next > 0, else until For
	// has elapsed if For > 0, else until cleared.
	Status int
	Next   int
	For    time.Duration
	// RetryAfter is sent as a Retry-After header (whole seconds, rounded
	// up) with Status and ErrorStatus answers.
	RetryAfter time.Duration
}

// faultConfigJSON carries durations as milliseconds over HTTP.
type faultConfigJSON struct {
	ErrorRate    float64 `json:"errorRate,omitempty"`
	ErrorStatus  int     `json:"errorStatus,omitempty"`
	LatencyMs    int64   `json:"latencyMs,omitempty"`
	Status       int     `json:"status,omitempty"`
	Next         int     `json:"next,omitempty"`
	ForMs        int64   `json:"forMs,omitempty"`
	RetryAfterMs int64   `json:"retryAfterMs,omitempty"`
}

// MarshalJSON encodes durations as milliseconds.
func (c FaultConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultConfigJSON{
		ErrorRate: c.ErrorRate, ErrorStatus: c.ErrorStatus, LatencyMs: c.Latency.Milliseconds(),
		Status: c.Status, Next: c.Next, ForMs: c.For.Milliseconds(), RetryAfterMs: c.RetryAfter.Milliseconds(),
	})
}

// UnmarshalJSON decodes durations from milliseconds.
func (c *FaultConfig) UnmarshalJSON(b []byte) error {
	var j faultConfigJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = FaultConfig{
		ErrorRate: j.ErrorRate, ErrorStatus: j.ErrorStatus, Latency: time.Duration(j.LatencyMs) * time.Millisecond,
		Status: j.Status, Next: j.Next, For: time.Duration(j.ForMs) * time.Millisecond,
		RetryAfter: time.Duration(j.RetryAfterMs) * time.Millisecond,
	}
	return nil
}

func (c FaultConfig) validate() error {
	if c.ErrorRate < 0 || c.ErrorRate > 1 {
		return fmt.Errorf("errorRate=%v: must be 0..1", c.ErrorRate)
	}
	for _, s := range []int{c.ErrorStatus, c.Status} {
		if s != 0 && (s < 400 || s > 599) {
			return fmt.Errorf("status %d: must be 400..599", s)
		}
	}
	if c.Latency < 0 || c.For < 0 || c.RetryAfter < 0 || c.Next < 0 {
		return fmt.Errorf("latency, for, retryAfter and next must not be negative")
	}
	return nil
}

// Faults holds the injected faults of one emulator. It is safe for
// concurrent use.
type Faults struct {
	mu        sync.Mutex
	cfg       FaultConfig
	until     time.Time
	remaining int
	injected  int
}

// Set replaces the injected faults.
func (f *Faults) Set(cfg FaultConfig) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	f.remaining = cfg.Next
	f.until = time.Time{}
	if cfg.For > 0 {
		f.until = time.Now().Add(cfg.For)
	}
	return nil
}

// Clear stops injecting faults.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg, f.remaining, f.until = FaultConfig{}, 0, time.Time{}
}

// Get returns the current fault configuration.
func (f *Faults) Get() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// Injected returns how many requests were answered with a fault.
func (f *Faults) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

// decide returns the latency to add and the failure status to answer with
// (0 for none) for one request.
func (f *Faults) decide() (latency time.Duration, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	latency = c.Latency
	if c.Status != 0 {
		switch {
		case c.Next > 0:
			if f.remaining > 0 {
				f.remaining--
				status = c.Status
			}
		case c.For > 0:
			if time.Now().Before(f.until) {
				status = c.Status
			}
		default:
			status = c.Status
		}
	}
	if status == 0 && c.ErrorRate > 0 && rand.Float64() < c.ErrorRate {
		status = c.ErrorStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
	}
	if status != 0 {
		f.injected++
	}
	return latency, status, c.RetryAfter
}

// apply delays the request and, when a failure is due, answers it with
// body(status) and reports true.
func (f *Faults) apply(ctx context.Context, w http.ResponseWriter, body func(status int) any) bool {
	latency, status, retryAfter := f.decide()
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return true
		}
	}
	if status == 0 {
		return false
	}
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, status, body(status))
	return true
}

// serveControl serves GET (current), POST/PUT (set) and DELETE (clear).
func (f *Faults) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, f.Get())
	case http.MethodPost, http.MethodPut:
		var cfg FaultConfig
		if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := f.Set(cfg); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, f.Get())
	case http.MethodDelete:
		f.Clear()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
