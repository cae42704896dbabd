// Package gizwitsapi is a client of the Gizwits Enterprise API
// (shared/reference/gizwits-enterprise-api.md): the HTTP API an enterprise
// uses next to SNoti, for the calls snotibridge needs — a product's
// data-point definition (the source of the decoder's codecs) and, for
// enterprises on SNoti v1, remote control of devices.
//
// Every call is authorised by a per-product token ("Authorization: token
// <value>"), bought with the enterprise id and secret and the product's
// secret and valid for seven days. The client caches one token per product,
// buys a new one before it expires, and buys one again once when the API
// says the token is invalid or expired (codes 5009, 5010, 5011).
//
// Errors carry the HTTP status and the API's error code (*APIError); a
// request is never redirected, so a token never reaches another host.
package gizwitsapi
