package energisme

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
)

const maxErrorBody = 4 << 10

// ErrUnauthorized marks a push rejected with 401 or 403. It is wrapped in a
// retryable error: a wrong token fails every uplink, not one bad record.
var ErrUnauthorized = errors.New("token rejected by Energisme")

// Client pushes uplinks to Energisme. It is safe for concurrent use;
// ordering between concurrent Push calls is the caller's business (send one
// device's uplinks one at a time to keep them in order).
type Client struct {
	cfg Config
	log zerolog.Logger
	// request is the push request without body or context, its URL parsed
	// once: each Push sends a copy (WithContext) with header, which
	// nothing modifies.
	request *http.Request
	header  http.Header
}

// New validates cfg, applies defaults and returns a Client.
func New(cfg Config, log zerolog.Logger) (*Client, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("validating Energisme config: %w", err)
	}
	log = log.With().Str("component", "energisme").Logger()
	if sinkhttp.CheckURL(cfg.URL, false) != nil {
		log.Warn().Str("url", cfg.URL).Msg("ENERGISME_ALLOW_INSECURE_HTTP=true: ENERGISME_URL is plain HTTP, the token travels in clear")
	}
	req, err := http.NewRequest(http.MethodPost, cfg.URL, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("validating Energisme config: URL=%q: %w", cfg.URL, err)
	}
	header := http.Header{}
	header.Set("source", cfg.Source)
	header.Set("Content-Type", "application/json")
	header.Set("Authorization", "Basic "+cfg.Token)
	return &Client{cfg: cfg, log: log, request: req, header: header}, nil
}

// Push sends one uplink and blocks until Energisme answered, the request
// timed out or ctx ended. It returns nil on 2xx; otherwise an error
// classified with sinkerr (see the package doc), or a ctx error when ctx
// ended. A retried Push may deliver a duplicate: (deviceid, timestamp) is
// the natural duplicate key on Energisme's side.
func (c *Client) Push(ctx context.Context, u Uplink) error {
	body, err := u.MarshalJSON()
	if err != nil {
		return sinkerr.NewPermanent(fmt.Errorf("encoding uplink of device %q: %w", u.DeviceID, err))
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req := c.newRequest(reqCtx, body)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("pushing uplink of device %q: %w", u.DeviceID, ctx.Err())
		}
		c.pushLog(u).Warn().Err(err).Msg("pushing to Energisme failed")
		return sinkerr.NewRetryable(fmt.Errorf("pushing uplink of device %q: %w", u.DeviceID, err), 0)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		// Drained (a little), so the connection can be reused; the body
		// of a success says nothing.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	log := c.pushLog(u)

	status := resp.StatusCode
	herr := &HTTPError{StatusCode: status, Body: string(raw)}
	perr := fmt.Errorf("pushing uplink of device %q: %w", u.DeviceID, herr)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// A rejected token fails every uplink alike: it is the
		// configuration's fault, not the record's, so it must not flood
		// the DLQ.
		log.Warn().Int("status", status).Msg("Energisme rejected the token")
		return sinkerr.NewRetryable(fmt.Errorf("%w: %w", ErrUnauthorized, perr), 0)
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		retryAfter := sinkerr.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		log.Warn().Int("status", status).Dur("retry_after", retryAfter).Msg("Energisme is unavailable")
		return sinkerr.NewRetryable(perr, retryAfter)
	case status >= 400:
		log.Warn().Int("status", status).Str("body", herr.Body).Msg("Energisme rejected the uplink")
		return sinkerr.NewPermanent(perr)
	default:
		log.Warn().Int("status", status).Msg("unexpected Energisme HTTP status")
		return sinkerr.NewRetryable(perr, 0)
	}
}

// newRequest is the push request carrying body, as
// http.NewRequestWithContext would build it, without parsing the URL again.
func (c *Client) newRequest(ctx context.Context, body []byte) *http.Request {
	req := c.request.WithContext(ctx)
	// Shared by every push: the client and transport only read a
	// request's header (http.Client copies it for redirects itself).
	req.Header = c.header
	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return req
}

// pushLog is the logger of a push that failed.
func (c *Client) pushLog(u Uplink) *zerolog.Logger {
	log := c.log.With().Str("deviceid", u.DeviceID).Str("devicetype", u.DeviceType).Logger()
	return &log
}
