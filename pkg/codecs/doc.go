// Package codecs is the directory of per-product codecs the decoder uses:
// it loads every codec file of a directory, decodes device_status_raw and
// types device_status_kv for a product_key, and reloads the directory when
// it changes, without a restart and without disturbing decodes in flight.
//
// # Directory convention
//
// One file per codec, flat, named after the product:
//
//	<product_key>.json          a Gizwits data-point export, exactly as the console exports it
//	<product_key>.json          or a custom codec (package devcodec) for a device's own protocol
//	<product_key>.<label>.json  a second file for the same product, e.g. <pk>.custom.json holding
//	                            the custom codec for the transparent (0x06) data of a data-point product
//
// The product_key is the file name up to its first dot. What a file holds is
// read from its content: an object with "entities" is a Gizwits export, one
// with "messages" a custom codec. A product_key inside the file, when
// present, must equal the one of the name. A product has at most one export
// and one custom codec. Names starting with "." are skipped, as are other
// extensions and directories, so a Kubernetes ConfigMap can be mounted as the
// directory: its "..data" and timestamped folders are ignored and its
// symlinks followed.
//
// # Decoding
//
// A product with an export decodes status frames with it (package gizwits);
// its other P0 actions go to its custom codec if it has one: for 0x06 the
// bytes after the action byte, for any other action the whole P0. A product
// with only a custom codec gets the P0 of a transport frame (without its
// 0x06 action byte) or, when the bytes are not a transport frame, the bytes
// as they are. Errors wrap the sentinels of this package, gizwits and
// devcodec; ReasonOf maps any of them to a short reason for dead letters.
//
// # Reloading
//
// Run watches the directory with package filewatch's reload loop (a
// ConfigMap update is a symlink swap, so any event triggers a rescan of the
// whole directory) and rescans periodically as a safety net. Only changed files are parsed again. A file
// that fails to load keeps the previous good version of its codec in use;
// the failure is logged and counted (Stats). A new snapshot of all codecs is
// swapped in atomically: a decode uses one snapshot from start to end.
package codecs
