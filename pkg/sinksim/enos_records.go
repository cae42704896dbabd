package sinksim

import "time"

// EnOSDevice names a device as an integration message does.
type EnOSDevice struct {
	AssetID    string `json:"assetId,omitempty"`
	ProductKey string `json:"productKey,omitempty"`
	DeviceKey  string `json:"deviceKey,omitempty"`
}

// key is "asset:<id>" or "<productKey>/<deviceKey>".
func (d EnOSDevice) key() string {
	if d.AssetID != "" {
		return "asset:" + d.AssetID
	}
	return d.ProductKey + "/" + d.DeviceKey
}

// EnOSPoint is one accepted measurement point value.
type EnOSPoint struct {
	// Seq numbers stored items of one kind from 1, in arrival order.
	Seq int64 `json:"seq"`
	EnOSDevice
	PointID string `json:"pointId"`
	// Value is the JSON value as decoded by encoding/json (numbers are
	// float64).
	Value any `json:"value"`
	// Time is the entry's epoch milliseconds.
	Time int64 `json:"time"`
	// Realtime is false for backfill messages (isRealtimeIntegration:false).
	Realtime   bool      `json:"realtime"`
	MessageID  string    `json:"messageId"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// EnOSEvent is one accepted event.
type EnOSEvent struct {
	Seq int64 `json:"seq"`
	EnOSDevice
	EventID    string         `json:"eventId"`
	Params     map[string]any `json:"params"`
	Time       int64          `json:"time"`
	Realtime   bool           `json:"realtime"`
	MessageID  string         `json:"messageId"`
	ReceivedAt time.Time      `json:"receivedAt"`
}

// EnOSAttribute is one accepted attribute value.
type EnOSAttribute struct {
	Seq int64 `json:"seq"`
	EnOSDevice
	Name       string    `json:"name"`
	Value      any       `json:"value"`
	Realtime   bool      `json:"realtime"`
	MessageID  string    `json:"messageId"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// EnOSRequest records one integration request, accepted or not.
type EnOSRequest struct {
	Seq    int64  `json:"seq"`
	Action string `json:"action"`
	// MessageID is the message's "id", empty if it could not be parsed.
	MessageID string `json:"messageId,omitempty"`
	Entries   int    `json:"entries"`
	// MessageBytes is the size of the enos-message part.
	MessageBytes int       `json:"messageBytes"`
	HTTPStatus   int       `json:"httpStatus"`
	Code         int       `json:"code"`
	Msg          string    `json:"msg,omitempty"`
	ReceivedAt   time.Time `json:"receivedAt"`
}

// EnOSStats counts what the EnOS emulator served since the last Reset,
// including items no longer retained.
type EnOSStats struct {
	Points         int `json:"points"`
	Events         int `json:"events"`
	Attributes     int `json:"attributes"`
	TokenGets      int `json:"tokenGets"`
	TokenRefreshes int `json:"tokenRefreshes"`
	TokenRejected  int `json:"tokenRejected"`
	Requests       int `json:"requests"`
	Accepted       int `json:"accepted"`
	Rejected       int `json:"rejected"`
	Faults         int `json:"faults"`
}
