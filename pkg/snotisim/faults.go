package snotisim

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Faults are injected into every connection's pushes. They can be changed
// while the server runs (Server.SetFaults, PUT /faults) and apply from the
// next push on.
type Faults struct {
	// DropEvery closes a connection right after its every Nth push.
	DropEvery int `json:"drop_every,omitempty"`
	// DropProbability closes a connection after a push with this chance.
	DropProbability float64 `json:"drop_probability,omitempty"`
	// Delay is waited before writing each push.
	Delay time.Duration `json:"-"`
	// MalformedEvery writes a malformed line after every Nth push, cycling
	// through: not JSON, truncated JSON, a push without delivery_id.
	MalformedEvery int `json:"malformed_every,omitempty"`
	// OverlongEvery pads every Nth push to OverlongBytes with a "sim_pad"
	// field: a valid push the client must accept and ACK.
	OverlongEvery int `json:"overlong_every,omitempty"`
	// OverlongBytes is the padded line length (default 1 MiB + 1 KiB).
	OverlongBytes int `json:"overlong_bytes,omitempty"`
	// NoPong leaves pings unanswered.
	NoPong bool `json:"no_pong,omitempty"`
	// StallOnStaleAck stops pushing on a connection that ACKs a delivery
	// id never issued on it (one of an earlier connection's), as the real
	// server is reported to do (noti-client 1.8.3); the connection stays
	// open and silent. Off: the stale ACK is answered with invalid_msg.
	StallOnStaleAck bool `json:"stall_on_stale_ack,omitempty"`
}

const defaultOverlongBytes = 1<<20 + 1<<10

// MarshalJSON writes Delay as a Go duration string ("5ms").
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	out := struct {
		plain
		Delay string `json:"delay,omitempty"`
	}{plain: plain(f)}
	if f.Delay > 0 {
		out.Delay = f.Delay.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads Delay as a Go duration string ("5ms").
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var in struct {
		plain
		Delay string `json:"delay"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*f = Faults(in.plain)
	if in.Delay != "" {
		d, err := time.ParseDuration(in.Delay)
		if err != nil {
			return fmt.Errorf("delay %q: must be a duration such as 5ms: %w", in.Delay, err)
		}
		f.Delay = d
	}
	return nil
}

func (f Faults) validate() error {
	var errs []error
	if f.DropEvery < 0 || f.MalformedEvery < 0 || f.OverlongEvery < 0 || f.OverlongBytes < 0 || f.Delay < 0 {
		errs = append(errs, errors.New("faults: counts, sizes and delay must not be negative"))
	}
	if f.DropProbability < 0 || f.DropProbability > 1 {
		errs = append(errs, fmt.Errorf("faults: drop probability %v: must be 0..1", f.DropProbability))
	}
	return errors.Join(errs...)
}

func (f Faults) overlongBytes() int {
	if f.OverlongBytes > 0 {
		return f.OverlongBytes
	}
	return defaultOverlongBytes
}
