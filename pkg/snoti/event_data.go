package snoti

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// EventData is the typed part of a push. Its concrete type depends on the
// event type: *DeviceOnline, *AttrEvent, *StatusRaw, *StatusKV,
// *SubDevice, *Binding, *FileDownload, *App2Dev, or *Empty for the event
// types that carry only the common fields. Unknown event types have nil
// EventData; their whole line is still in Push.Raw.
type EventData interface{ eventData() }

// DeviceOnline is the data of device_online. NB-IoT devices also report
// position and SIM identity.
type DeviceOnline struct {
	IP        string
	Country   string
	Region    string
	City      string
	Latitude  string // as sent: a number's literal or a string
	Longitude string
	ICCID     string
	IMSI      string
}

// AttrEvent is the data of attr_fault and attr_alert. Occurrence and
// recovery of one condition share EventID.
type AttrEvent struct {
	EventID         string
	AttrName        string
	AttrDisplayName string
	Value           int // 1: the condition occurs, 0: it clears
}

// Occurs reports whether the event is an occurrence rather than a recovery.
func (a *AttrEvent) Occurs() bool { return a.Value == 1 }

// StatusRaw is the data of device_status_raw and app2dev_raw: the device's
// raw bytes, usually a whole Gizwits transport frame.
type StatusRaw struct {
	Raw []byte
}

// StatusKV is the data of device_status_kv, app2dev_kv, device_gps_kv and
// device_lbs_kv: data point values by name, each kept as raw JSON (bools
// arrive as 0/1, enums as label strings).
type StatusKV struct {
	Values map[string]json.RawMessage
}

// SubDevice is the data of sub_device_added and sub_device_deleted.
type SubDevice struct {
	ChildProductKey string
	ChildDID        string
	ChildMAC        string
	ChildPasscode   string
}

// Binding is the data of device_bind and device_unbind.
type Binding struct {
	AppID string
	UID   string
}

// FileDownload is the data of device_file_download.
type FileDownload struct {
	DownloadURL string
}

// App2Dev is the data of app2dev_raw and app2dev_kv: what an app sent to a
// device. Raw is set for app2dev_raw, Values for app2dev_kv.
type App2Dev struct {
	Source       string
	AppID        string
	UID          string
	EnterpriseID string
	Raw          []byte
	Values       map[string]json.RawMessage
}

// Empty is the data of event types that carry only the common fields:
// device_offline, datapoints_changed, device_reset.
type Empty struct{}

func (*DeviceOnline) eventData() {}
func (*AttrEvent) eventData()    {}
func (*StatusRaw) eventData()    {}
func (*StatusKV) eventData()     {}
func (*SubDevice) eventData()    {}
func (*Binding) eventData()      {}
func (*FileDownload) eventData() {}
func (*App2Dev) eventData()      {}
func (*Empty) eventData()        {}

// decodeEventData builds the typed data of a push from its members. Every
// member is read whatever its JSON type (see fields.text): an NB-IoT module
// sending iccid as a number, or a field that is null, never fails the push.
// Only data of the wrong shape for the event type gives an error.
func decodeEventData(eventType string, f fields) (EventData, error) {
	switch eventType {
	case EventDeviceOnline:
		return &DeviceOnline{
			IP: f.text("ip"), Country: f.text("country"), Region: f.text("region"), City: f.text("city"),
			Latitude: f.text("latitude"), Longitude: f.text("longitude"),
			ICCID: f.text("iccid"), IMSI: f.text("imsi"),
		}, nil
	case EventDeviceOffline, EventDatapointsChanged, EventDeviceReset:
		return &Empty{}, nil
	case EventAttrFault, EventAttrAlert:
		var d struct {
			AttrName        flexString `json:"attr_name"`
			AttrDisplayName flexString `json:"attr_displayname"`
			Value           flexString `json:"value"`
		}
		if err := unmarshalData(f.raw("data"), &d); err != nil {
			return nil, err
		}
		v := 0
		switch d.Value.String() {
		case "1", "true":
			v = 1
		case "0", "false", "":
		default:
			return nil, fmt.Errorf("data.value=%.64s: want 0 or 1", d.Value.String())
		}
		return &AttrEvent{EventID: f.text("event_id"), AttrName: d.AttrName.String(), AttrDisplayName: d.AttrDisplayName.String(), Value: v}, nil
	case EventDeviceStatusRaw:
		raw, err := decodeRawData(f.raw("data"))
		if err != nil {
			return nil, err
		}
		return &StatusRaw{Raw: raw}, nil
	case EventDeviceStatusKV, EventDeviceGPSKV, EventDeviceLBSKV:
		vals, err := decodeValues(f.raw("data"))
		if err != nil {
			return nil, err
		}
		return &StatusKV{Values: vals}, nil
	case EventSubDeviceAdded, EventSubDeviceDeleted:
		return &SubDevice{ChildProductKey: f.text("child_product_key"), ChildDID: f.text("child_did"),
			ChildMAC: f.text("child_mac"), ChildPasscode: f.text("child_passcode")}, nil
	case EventDeviceBind, EventDeviceUnbind:
		return &Binding{AppID: f.text("app_id"), UID: f.text("uid")}, nil
	case EventDeviceFileDownload:
		return &FileDownload{DownloadURL: f.text("download_url")}, nil
	case EventApp2DevRaw, EventApp2DevKV:
		a := &App2Dev{Source: f.text("source"), AppID: f.text("appid"), UID: f.text("uid"), EnterpriseID: f.text("enterprise_id")}
		if a.AppID == "" {
			a.AppID = f.text("app_id")
		}
		var err error
		if eventType == EventApp2DevRaw {
			a.Raw, err = decodeRawData(f.raw("data"))
		} else {
			a.Values, err = decodeValues(f.raw("data"))
		}
		if err != nil {
			return nil, err
		}
		return a, nil
	default:
		return nil, nil
	}
}

func unmarshalData(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding data: %w", err)
	}
	return nil
}

// decodeValues decodes data point values, {"name": value, …}, into what
// encoding/json makes of them as a map[string]json.RawMessage (the last of
// duplicate names wins, values without surrounding space), errors
// included, but without its reflection: from the members the scanner
// splits, the values aliasing raw.
func decodeValues(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if len(raw) > 0 && raw[0] == '{' {
		c := scratchPool.Get().(*canonicalizer)
		defer c.release()
		if members, err := c.split(raw); err == nil && keysValid(members) {
			vals := make(map[string]json.RawMessage, len(members))
			for _, m := range members {
				vals[string(m.key)] = m.value
			}
			return vals, nil
		}
	}
	var vals map[string]json.RawMessage
	err := unmarshalData(raw, &vals)
	return vals, err
}

// keysValid reports whether every key is valid UTF-8: encoding/json
// replaces invalid bytes in the keys it decodes (decodeKey does so only
// for keys with escapes).
func keysValid(members []member) bool {
	for _, m := range members {
		if !utf8.Valid(m.key) {
			return false
		}
	}
	return true
}

// decodeRawData accepts raw bytes as a bare base64 string or as
// {"raw": "<base64>"}; both forms are seen in the field.
func decodeRawData(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if b, ok := rawDataFastPath(raw); ok {
		return b, nil
	}
	var s string
	if raw[0] == '{' {
		var obj struct {
			Raw string `json:"raw"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("decoding data: %w", err)
		}
		s = obj.Raw
	} else if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decoding data: want a base64 string or {\"raw\": base64}: %w", err)
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("decoding data base64: %w", err)
	}
	return b, nil
}

// rawDataFastPath handles the two usual compact forms without a JSON
// decoder: base64 never needs escapes, so a quoted run without a backslash
// is the string itself. ok is false for anything else.
func rawDataFastPath(raw json.RawMessage) ([]byte, bool) {
	inner, found := bytes.CutPrefix(raw, []byte(`{"raw":`))
	if found {
		if inner, found = bytes.CutSuffix(inner, []byte("}")); !found {
			return nil, false
		}
	} else {
		inner = raw
	}
	if len(inner) < 2 || inner[0] != '"' || inner[len(inner)-1] != '"' || bytes.ContainsAny(inner[1:len(inner)-1], "\\\"") {
		return nil, false
	}
	b, err := decodeBase64(string(inner[1 : len(inner)-1]))
	return b, err == nil
}

// decodeBase64 accepts padded and unpadded, standard and URL alphabets.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
