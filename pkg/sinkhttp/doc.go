// Package sinkhttp holds the HTTP rules every sink client (EnOS, Energisme)
// follows because its requests carry credentials: a URL must be https://
// unless it is loopback or plain HTTP is allowed explicitly, and no redirect
// is ever followed, since Go forwards custom headers such as EnOS's
// apim-accesstoken (and a re-sent body) to wherever a redirect points.
package sinkhttp
