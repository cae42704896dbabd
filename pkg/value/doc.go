// Package value is the typed result of decoding a device payload: a small
// tagged union (bool, int64, uint64, float64, string) that decoders fill
// without boxing, so the hot decode path allocates nothing per field.
//
// Numbers keep exactly what the device sent: a data point whose scale is
// integral (ratio 1, whole addition) is an Int; a scaled one is a Float that is
// the nearest float64 to the decimal result (0.1 × 2305 is 230.5, not
// 230.50000000000003), so strconv.FormatFloat(f, 'f', -1, 64) prints the
// decimal the device meant. Enum labels and binary (lower-case hex) are
// Strings.
package value
