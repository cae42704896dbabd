package config

import (
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

// DefaultGCPercent is the garbage collector's percent (GOGC) of every
// service when GOGC is unset and a soft memory limit is in force. A
// service's live heap is small (a few batches, the codecs), so at Go's
// default of 100 the collector runs many times a second: in the chain at
// 5k events/s its mark workers were a quarter of the decoder's and the
// enos-forwarder's CPU, 4-18% at 400. The heap then grows to about the
// memory limit (peak RSS 45-70 MiB instead of 25-65), which bounds it when
// the live data is large.
const DefaultGCPercent = 400

// DefaultMemoryLimitMiB is the soft memory limit (GOMEMLIMIT) of every
// service when GOMEMLIMIT is unset, in MiB: the collector works harder
// near it instead of letting the heap grow (the limit does not count the
// binary's own pages, about 10 MiB). A spec can take another
// (MemoryLimiter: the ingest's is 52). In Kubernetes the chart sets
// GOMEMLIMIT to the container's memory limit instead.
const DefaultMemoryLimitMiB = 64

// Runtime is the garbage-collector setting of a service: the Go runtime's
// own variables, GOGC and GOMEMLIMIT, when they are set (the runtime has
// read them), else the project's defaults. GOMEMLIMIT=off runs without a
// limit, and then without the higher percent it guards, at Go's default
// unless GOGC says otherwise.
type Runtime struct {
	// GCPercent is the percent to set; 0 leaves the runtime's (GOGC's or
	// Go's default).
	GCPercent int
	// MemoryLimit is the soft limit to set in bytes; 0 leaves the
	// runtime's (GOMEMLIMIT's or none).
	MemoryLimit int64
}

// MemoryLimiter is a spec whose service takes another soft memory limit
// than DefaultMemoryLimitMiB when GOMEMLIMIT is unset (the ingest: its
// queue at the largest prefetch is its live heap, and 64 MiB lets its peak
// RSS pass 64 MiB).
type MemoryLimiter interface {
	DefaultMemoryLimitMiB() int64
}

// RuntimeFrom returns the setting for the environment getenv reads, with
// defaultLimitMiB the soft memory limit when GOMEMLIMIT is unset. A
// GOGC that is neither "off" nor a whole number is an error naming it: the
// runtime would silently take 100 for it. A malformed GOMEMLIMIT stops the
// runtime itself before main.
func RuntimeFrom(getenv func(string) string, defaultLimitMiB int64) (Runtime, error) {
	var r Runtime
	gogc := strings.TrimSpace(getenv("GOGC"))
	if gogc != "" && gogc != "off" {
		if _, err := strconv.Atoi(gogc); err != nil {
			return r, fmt.Errorf("GOGC=%q: must be a percent (e.g. 400) or off; unset, the service uses %d (with a memory limit)", gogc, DefaultGCPercent)
		}
	}
	limit := getenv("GOMEMLIMIT")
	if limit == "" {
		r.MemoryLimit = defaultLimitMiB << 20
	}
	if gogc == "" && limit != "off" {
		r.GCPercent = DefaultGCPercent
	}
	return r, nil
}

// Apply sets r on the Go runtime.
func (r Runtime) Apply() {
	if r.MemoryLimit > 0 {
		debug.SetMemoryLimit(r.MemoryLimit)
	}
	if r.GCPercent > 0 {
		debug.SetGCPercent(r.GCPercent)
	}
}

// RuntimeInEffect reads the runtime's garbage-collector percent (GOGC; 0
// is off) and soft memory limit in bytes (math.MaxInt64 is none).
func RuntimeInEffect() (gcPercent, memoryLimit uint64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}
