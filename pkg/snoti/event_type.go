package snoti

import "slices"

// Pushed event types (the event_type field of a push).
const (
	EventDeviceOnline       = "device_online"
	EventDeviceOffline      = "device_offline"
	EventAttrFault          = "attr_fault"
	EventAttrAlert          = "attr_alert"
	EventDeviceStatusRaw    = "device_status_raw"
	EventDeviceStatusKV     = "device_status_kv"
	EventDatapointsChanged  = "datapoints_changed"
	EventSubDeviceAdded     = "sub_device_added"
	EventSubDeviceDeleted   = "sub_device_deleted"
	EventDeviceBind         = "device_bind"
	EventDeviceUnbind       = "device_unbind"
	EventDeviceReset        = "device_reset"
	EventDeviceFileDownload = "device_file_download"
	EventApp2DevRaw         = "app2dev_raw"
	EventApp2DevKV          = "app2dev_kv"
	EventDeviceGPSKV        = "device_gps_kv"
	EventDeviceLBSKV        = "device_lbs_kv"
)

// subscriptionEventTypes maps v2 subscription names to pushed event types;
// the two name sets differ.
var subscriptionEventTypes = map[string]string{
	"device.online":                     EventDeviceOnline,
	"device.offline":                    EventDeviceOffline,
	"device.status.raw":                 EventDeviceStatusRaw,
	"device.status.kv":                  EventDeviceStatusKV,
	"device.attr_fault":                 EventAttrFault,
	"device.attr_alert":                 EventAttrAlert,
	"datapoints.changed":                EventDatapointsChanged,
	"center_control.sub_device_added":   EventSubDeviceAdded,
	"center_control.sub_device_deleted": EventSubDeviceDeleted,
	"device.bind":                       EventDeviceBind,
	"device.unbind":                     EventDeviceUnbind,
	"device.reset":                      EventDeviceReset,
	"device.file.download":              EventDeviceFileDownload,
	"device.app2dev.raw":                EventApp2DevRaw,
	"device.app2dev.kv":                 EventApp2DevKV,
	"device.gps.kv":                     EventDeviceGPSKV,
	"device.lbs.kv":                     EventDeviceLBSKV,
}

// Subscriptions lists every known v2 subscription name, sorted.
func Subscriptions() []string {
	names := make([]string, 0, len(subscriptionEventTypes))
	for n := range subscriptionEventTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// EventTypeOf returns the pushed event_type of a v2 subscription name.
func EventTypeOf(subscription string) (string, bool) {
	t, ok := subscriptionEventTypes[subscription]
	return t, ok
}

// knownEventType reports whether t is one of the event types in the
// reference; metrics label other types "other" to bound cardinality.
func knownEventType(t string) bool {
	_, ok := knownEventTypes[t]
	return ok
}

// knownEventTypes maps each known event type to itself, so that a lookup
// by a line's bytes (eventTypeLabel) yields the name without allocating.
var knownEventTypes = func() map[string]string {
	m := make(map[string]string, len(subscriptionEventTypes))
	for _, t := range subscriptionEventTypes {
		m[t] = t
	}
	return m
}()
