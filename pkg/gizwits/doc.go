// Package gizwits decodes and encodes Gizwits data-point payloads: the
// transport frame (00 00 00 03 | len | flag | cmd | [sn] | P0) and the P0
// status of a product, as described by the data-point definition exported
// from the Gizwits console (protocolType "standard" or "var_len").
//
// Parse compiles a definition once into a layout; Decode and DecodeAppend
// then walk that layout without maps and, for a definition without binary
// attrs, without allocating (DecodeAppend with a reused slice). Decoded
// values are typed (see package value): bool → Bool, enum → String label,
// uint8/16/32 → Int when ratio and addition are integral, else Float equal to
// the nearest float64 of the exact decimal result; binary → lower-case hex.
//
// Bit fields of a standard definition: each area (status_writable,
// status_readonly, alert, fault) has its bool/enum bytes, read as one
// big-endian integer whose bit 0 is the least significant bit of the area's
// last bit byte; bit_offset counts from there across all the area's bit
// bytes, as Gizwits' generated MCU code does. An export whose bit attrs sit
// at several byte_offsets, each with bit_offset+len ≤ 8, is read per byte
// instead (bit_offset within the byte at byte_offset).
//
// Actions: 0x03/0x04 (standard) and 0x13/0x14 (var_len) are decoded; 0x06
// (transparent) and every other action come back as a Message of kind
// Transparent or Opaque with the payload untouched, for a custom codec.
//
// The encoder (EncodeStatus, EncodePartialStatus, AppendP0, AppendFrame)
// writes the same layouts, so simulators produce what devices produce.
package gizwits
