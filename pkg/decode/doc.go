// Package decode turns SnotiEvents into DeviceTelemetry: device_status_raw
// payloads through the product's codec, device_status_kv maps with the same
// typing. It is the decoder service's consume.Handler, also used by
// bridgectl to re-decode a range after a codec fix.
package decode
