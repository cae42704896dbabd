package sinkhttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ErrPlainHTTP marks an http:// URL to a host that is not loopback: the
// credentials of every request would cross the network in clear.
var ErrPlainHTTP = errors.New("http:// to a host that is not loopback")

// ErrRedirect marks a response that asked to be sent elsewhere; it is
// never followed, so credentials go only to the configured host.
var ErrRedirect = errors.New("redirect not followed: requests carry credentials")

// CheckURL checks that raw is an absolute http:// or https:// URL to which
// credentials may be sent: https://, or http:// to localhost or a loopback
// address, or any http:// when allowPlain is set. A refused http:// URL
// returns an error wrapping ErrPlainHTTP, so the caller can name its
// opt-in.
func CheckURL(raw string, allowPlain bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute https:// URL")
	}
	if u.Scheme == "http" && !allowPlain && !IsLoopback(u.Hostname()) {
		return ErrPlainHTTP
	}
	return nil
}

// IsLoopback reports whether host (a name or an IP, without port) can
// only reach this machine: localhost, *.localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// NewClient returns the client a sink uses by default: no redirects (see
// NoRedirects), and up to 64 idle connections per host instead of
// http.DefaultTransport's 2, which makes concurrent callers open and close
// a connection per request.
func NewClient() *http.Client { return NewClientFor(0) }

// NewClientFor is NewClient for callers with up to inFlight requests at
// once: it keeps that many idle connections per host (at least 64), so no
// connection is closed after a request only to be opened again (a TLS
// handshake) for the next.
func NewClientFor(inFlight int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(64, inFlight)
	return NoRedirects(&http.Client{Transport: t})
}

// NoRedirects returns a copy of c (nil: a zero client) that follows no
// redirect: Do returns an error wrapping ErrRedirect that names the target,
// and the request is never re-sent, so neither a custom credential header
// (which Go keeps on a cross-host redirect) nor a signed body leaves the
// configured host. A redirect is a configuration problem: the configured
// URL should be the final one.
func NoRedirects(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		prev := via[len(via)-1]
		return fmt.Errorf("%w: %s %s://%s%s answered with a redirect to %s://%s%s; set the URL to the final address",
			ErrRedirect, prev.Method, prev.URL.Scheme, prev.URL.Host, prev.URL.Path, req.URL.Scheme, req.URL.Host, req.URL.Path)
	}
	return &out
}
