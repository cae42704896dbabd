package sinksim

import "time"

// EnergismeUplink is one accepted push.
type EnergismeUplink struct {
	// Seq numbers accepted uplinks from 1, in arrival order.
	Seq int64 `json:"seq"`
	// Timestamp is the body's timestamp as sent; Time is it parsed.
	Timestamp  string    `json:"timestamp"`
	Time       time.Time `json:"time"`
	DeviceID   string    `json:"deviceid"`
	PayloadHex string    `json:"payload"`
	Payload    []byte    `json:"payloadBytes"`
	DeviceType string    `json:"devicetype"`
	Source     string    `json:"source"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// EnergismeRequest records one push request, accepted or not.
type EnergismeRequest struct {
	Seq        int64     `json:"seq"`
	Status     int       `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	DeviceID   string    `json:"deviceid,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// EnergismeStats counts what the Energisme emulator served since the last
// Reset, including items no longer retained. Accepted is the number of
// uplinks.
type EnergismeStats struct {
	Requests int `json:"requests"`
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Faults   int `json:"faults"`
}
