package enos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/internal/jsonappend"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
)

// IntegrationPath is the integration endpoint, relative to Config.APIURL.
const IntegrationPath = "/connect-service/v2.1/integration"

// MessagePart is the name of the multipart part holding the JSON message.
const MessagePart = "enos-message"

// Integration codes of the response body that the client branches on.
const (
	CodeOK            = 0
	CodeInternalError = 1005
	CodeTokenExpired  = 1203
)

// ErrUnauthorized marks a request whose token was rejected even after a
// token renewal. It is wrapped in a retryable error.
var ErrUnauthorized = errors.New("EnOS rejected the access token")

// ErrEntryTooLarge marks an entry that alone exceeds the message size limit.
// It is wrapped in a permanent error.
var ErrEntryTooLarge = errors.New("entry exceeds the EnOS message size limit")

// kind is one of the three integration operations.
type kind struct {
	action string
	method string
}

var (
	kindMeasurepoint = kind{"postMeasurepoint", "integration.measurepoint.post"}
	kindAttribute    = kind{"postAttribute", "integration.attribute.post"}
	kindEvent        = kind{"postEvent", "integration.event.post"}
)

// SendOption changes how one Post call is sent.
type SendOption func(*sendOptions)

type sendOptions struct {
	backfill bool
}

// Backfill marks the messages "isRealtimeIntegration": false, for replays
// and other old data.
func Backfill() SendOption {
	return func(o *sendOptions) { o.backfill = true }
}

// Client sends measurement points, attributes and events to EnOS. It is safe
// for concurrent use.
type Client struct {
	cfg    Config
	log    zerolog.Logger
	tokens *TokenSource
	// urls are the integration endpoint's URL by action, and envelopes
	// the size of each kind of message without params, computed once.
	urls      map[string]string
	envelopes map[envelope]int
}

// New validates cfg, applies defaults and returns a Client. It does not
// contact EnOS; the first Post gets a token.
func New(cfg Config, log zerolog.Logger) (*Client, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("validating EnOS config: %w", err)
	}
	log = log.With().Str("component", "enos").Logger()
	for _, u := range []struct{ name, value string }{{"ENOS_APIM_URL", cfg.APIMURL}, {"ENOS_API_URL", cfg.APIURL}} {
		if sinkhttp.CheckURL(u.value, false) != nil {
			log.Warn().Str("url", u.value).Msgf("ENOS_ALLOW_INSECURE_HTTP=true: %s is plain HTTP, the EnOS credentials travel in clear", u.name)
		}
	}
	urls, envelopes := map[string]string{}, map[envelope]int{}
	for _, k := range []kind{kindMeasurepoint, kindAttribute, kindEvent} {
		q := url.Values{"action": {k.action}, "orgId": {cfg.OrgID}}
		urls[k.action] = joinURL(cfg.APIURL, IntegrationPath) + "?" + q.Encode()
		for _, o := range []sendOptions{{}, {backfill: true}} {
			envelopes[envelope{k, o}] = len(newMessage(newRequestID(), k, o, nil).appendJSON(nil))
		}
	}
	return &Client{
		cfg:       cfg,
		log:       log,
		tokens:    newTokenSource(cfg, log),
		urls:      urls,
		envelopes: envelopes,
	}, nil
}

// Tokens returns the client's token source.
func (c *Client) Tokens() *TokenSource { return c.tokens }

// PostMeasurepoints sends measurement points (integration.measurepoint.post)
// and returns an outcome per entry, by index.
//
// Entries are sent in order, in as few messages under MaxMessageBytes as
// possible, one request at a time. A message EnOS rejects as bad is bisected
// until the bad entries are isolated: only they get permanent errors. After
// a retryable failure (EnOS down or busy, token unobtainable) sending stops
// and every entry not yet accepted gets that error, so a failing sink is not
// hammered; entries accepted before it keep a nil error. When ctx ends, the
// entries not yet accepted get the ctx error (unclassified). It blocks until
// every entry has an outcome. Safe for concurrent use; concurrent calls
// share one token.
func (c *Client) PostMeasurepoints(ctx context.Context, entries []MeasurepointEntry, opts ...SendOption) Result {
	return c.post(ctx, kindMeasurepoint, marshalAll(entries), opts)
}

// PostEvents sends device events (integration.event.post), with the same
// contract as PostMeasurepoints.
func (c *Client) PostEvents(ctx context.Context, entries []EventEntry, opts ...SendOption) Result {
	return c.post(ctx, kindEvent, marshalAll(entries), opts)
}

// PostAttributes sends device attributes (integration.attribute.post), with
// the same contract as PostMeasurepoints.
func (c *Client) PostAttributes(ctx context.Context, entries []AttributeEntry, opts ...SendOption) Result {
	return c.post(ctx, kindAttribute, marshalAll(entries), opts)
}

// encoded is one entry in wire form, or the reason it cannot be sent.
type encoded struct {
	raw json.RawMessage
	err error
}

// entry is what every entry type has: an appending MarshalJSON, which
// may use and update keys, shared by the entries of one call.
type entry interface {
	appendJSON(b []byte, keys *sortedKeys) ([]byte, error)
}

// marshalAll encodes the entries into one buffer: each raw is a capped
// slice of it.
func marshalAll[E entry](entries []E) []encoded {
	out := make([]encoded, len(entries))
	buf := make([]byte, 0, 256*len(entries))
	var keys sortedKeys
	for i, e := range entries {
		start := len(buf)
		b, err := e.appendJSON(buf, &keys)
		if err != nil {
			out[i].err = sinkerr.NewPermanent(fmt.Errorf("encoding entry %d: %w", i, err))
			continue
		}
		buf = b
		out[i].raw = buf[start:len(buf):len(buf)]
	}
	return out
}

// post implements the Post methods: it packs the entries into messages
// under the size limit and delivers them in order.
func (c *Client) post(ctx context.Context, k kind, entries []encoded, opts []SendOption) Result {
	var o sendOptions
	for _, opt := range opts {
		opt(&o)
	}
	res := Result{Errs: make([]error, len(entries))}
	overhead := c.envelopeSize(k, o)
	var (
		chunk []int
		size  = overhead
		stop  error
	)
	flush := func() {
		if len(chunk) == 0 {
			return
		}
		if stop == nil {
			stop = c.deliver(ctx, k, o, entries, chunk, res.Errs)
		} else {
			for _, i := range chunk {
				res.Errs[i] = stop
			}
		}
		chunk, size = nil, overhead
	}
	for i, e := range entries {
		if e.err != nil {
			res.Errs[i] = e.err
			continue
		}
		n := len(e.raw)
		if overhead+n > c.cfg.MaxMessageBytes {
			res.Errs[i] = sinkerr.NewPermanent(fmt.Errorf("entry %d is %d bytes: %w", i, n, ErrEntryTooLarge))
			continue
		}
		sep := 0
		if len(chunk) > 0 {
			sep = 1 // the comma between entries
		}
		if size+sep+n > c.cfg.MaxMessageBytes {
			flush()
			sep = 0
		}
		chunk = append(chunk, i)
		size += sep + n
	}
	flush()
	return res
}

// deliver sends the entries named by idx as one message. When EnOS rejects
// the message as bad it bisects it to isolate the bad entries. It records an
// outcome in errs for each index and returns the error that should stop
// further sending (retryable or ctx), or nil.
func (c *Client) deliver(ctx context.Context, k kind, o sendOptions, entries []encoded, idx []int, errs []error) error {
	err := c.send(ctx, k, o, entries, idx)
	switch {
	case err == nil:
		for _, i := range idx {
			errs[i] = nil
		}
		return nil
	case !sinkerr.IsPermanent(err):
		for _, i := range idx {
			errs[i] = err
		}
		return err
	case len(idx) == 1:
		errs[idx[0]] = err
		return nil
	}
	mid := len(idx) / 2
	if stop := c.deliver(ctx, k, o, entries, idx[:mid], errs); stop != nil {
		for _, i := range idx[mid:] {
			errs[i] = stop
		}
		return stop
	}
	return c.deliver(ctx, k, o, entries, idx[mid:], errs)
}

// message is the enos-message JSON.
type message struct {
	ID       string            `json:"id"`
	Version  string            `json:"version"`
	Method   string            `json:"method"`
	Params   []json.RawMessage `json:"params"`
	Realtime *bool             `json:"isRealtimeIntegration,omitempty"`
}

func newMessage(id string, k kind, o sendOptions, params []json.RawMessage) message {
	m := message{ID: id, Version: "1.1", Method: k.method, Params: params}
	if o.backfill {
		f := false
		m.Realtime = &f
	}
	if m.Params == nil {
		m.Params = []json.RawMessage{}
	}
	return m
}

// appendJSON appends m as encoding/json encodes it (TestMessageJSON),
// without re-scanning every param as encoding/json does for a
// json.RawMessage: the params are entries this package encoded, compact
// and valid.
func (m message) appendJSON(b []byte) []byte {
	b = jsonappend.String(append(b, `{"id":`...), m.ID)
	b = jsonappend.String(append(b, `,"version":`...), m.Version)
	b = jsonappend.String(append(b, `,"method":`...), m.Method)
	b = append(b, `,"params":[`...)
	for i, p := range m.Params {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	b = append(b, ']')
	if m.Realtime != nil {
		b = strconv.AppendBool(append(b, `,"isRealtimeIntegration":`...), *m.Realtime)
	}
	return append(b, '}')
}

// size is the length of m's JSON.
func (m message) size() int {
	n := 0
	for _, p := range m.Params {
		n += len(p) + 1
	}
	return n + 256
}

// envelopeSize is the size of a message with no params (its id is 32
// hex digits).
func (c *Client) envelopeSize(k kind, o sendOptions) int {
	return c.envelopes[envelope{k, o}]
}

// envelope is what the size of a message's envelope depends on.
type envelope struct {
	k kind
	o sendOptions
}

// response is the integration endpoint's JSON answer.
type response struct {
	Code      int             `json:"code"`
	Msg       string          `json:"msg"`
	RequestID string          `json:"requestId"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// send posts one message holding the entries named by idx, renewing the
// token and retrying once if it was rejected. The returned error is
// classified with sinkerr, or is a ctx error.
func (c *Client) send(ctx context.Context, k kind, o sendOptions, entries []encoded, idx []int) error {
	params := make([]json.RawMessage, len(idx))
	for j, i := range idx {
		params[j] = entries[i].raw
	}
	for attempt := 0; ; attempt++ {
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return err
		}
		reqID := newRequestID()
		err = c.sendOnce(ctx, k, newMessage(reqID, k, o, params), token)
		if errors.Is(err, errTokenRejected) {
			c.tokens.Invalidate(token)
			if attempt == 0 {
				continue
			}
			return sinkerr.NewRetryable(fmt.Errorf("posting %s request %s: %w", k.method, reqID, ErrUnauthorized), 0)
		}
		return err
	}
}

var errTokenRejected = errors.New("token rejected")

func (c *Client) sendOnce(ctx context.Context, k kind, m message, token string) error {
	// The logger of a failure only: a success builds none.
	logger := func() *zerolog.Logger {
		l := c.log.With().Str("request_id", m.ID).Str("method", k.method).Int("entries", len(m.Params)).Logger()
		return &l
	}
	body, contentType, n, err := encodeMultipart(m)
	if err != nil {
		return sinkerr.NewPermanent(fmt.Errorf("encoding %s request %s: %w", k.method, m.ID, err))
	}
	if n > c.cfg.MaxMessageBytes {
		// post packs by the entries' encoded sizes, so this cannot happen
		// unless encoding changed them; never send an oversized part.
		return sinkerr.NewPermanent(fmt.Errorf("%s request %s: enos-message of %d bytes over the %d limit: %w", k.method, m.ID, n, c.cfg.MaxMessageBytes, ErrEntryTooLarge))
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.urls[k.action], bytes.NewReader(body))
	if err != nil {
		return sinkerr.NewPermanent(fmt.Errorf("building %s request %s: %w", k.method, m.ID, err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("apim-accesstoken", token)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("posting %s request %s: %w", k.method, m.ID, ctx.Err())
		}
		logger().Warn().Err(err).Msg("posting to EnOS failed")
		return sinkerr.NewRetryable(fmt.Errorf("posting %s request %s: %w", k.method, m.ID, err), 0)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		logger().Warn().Err(err).Int("status", resp.StatusCode).Msg("reading EnOS response failed")
		return sinkerr.NewRetryable(fmt.Errorf("reading %s response to request %s: %w", k.method, m.ID, err), 0)
	}
	var r response
	jsonErr := json.Unmarshal(raw, &r)
	if resp.StatusCode/100 == 2 && jsonErr == nil && r.Code == CodeOK {
		return nil
	}
	log := logger().With().Int("status", resp.StatusCode).Int("code", r.Code).Str("msg", r.Msg).Str("enos_request_id", r.RequestID).Logger()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("posting %s request %s: "+format, append([]any{k.method, m.ID}, args...)...)
	}

	switch status := resp.StatusCode; {
	case status == http.StatusUnauthorized:
		log.Info().Msg("EnOS rejected the access token")
		return errTokenRejected
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		retryAfter := sinkerr.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		log.Warn().Dur("retry_after", retryAfter).Msg("EnOS is unavailable")
		return sinkerr.NewRetryable(fail("HTTP %d: %s", status, truncate(raw)), retryAfter)
	case status >= 400:
		log.Warn().Str("body", truncate(raw)).Msg("EnOS rejected the message")
		return sinkerr.NewPermanent(fail("HTTP %d: %s", status, truncate(raw)))
	case status/100 != 2:
		log.Warn().Msg("unexpected EnOS HTTP status")
		return sinkerr.NewRetryable(fail("unexpected HTTP %d", status), 0)
	case jsonErr != nil:
		log.Warn().Err(jsonErr).Str("body", truncate(raw)).Msg("decoding EnOS response failed")
		return sinkerr.NewRetryable(fail("decoding response: %w", jsonErr), 0)
	}

	switch r.Code {
	case CodeOK:
		return nil
	case CodeTokenExpired:
		log.Info().Msg("EnOS access token expired")
		return errTokenRejected
	case CodeInternalError:
		log.Warn().Msg("EnOS internal error")
		return sinkerr.NewRetryable(fail("code %d %q", r.Code, r.Msg), 0)
	default:
		log.Warn().Msg("EnOS rejected the message")
		return sinkerr.NewPermanent(fail("code %d %q (EnOS request %s)", r.Code, r.Msg, r.RequestID))
	}
}

// encodeMultipart returns the request body, its content type and the size
// of the enos-message part.
func encodeMultipart(m message) ([]byte, string, int, error) {
	js := m.appendJSON(make([]byte, 0, m.size()))
	var buf bytes.Buffer
	buf.Grow(len(js) + 512) // the part's header and the boundaries
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormField(MessagePart)
	if err != nil {
		return nil, "", 0, err
	}
	if _, err := part.Write(js); err != nil {
		return nil, "", 0, err
	}
	if err := w.Close(); err != nil {
		return nil, "", 0, err
	}
	return buf.Bytes(), w.FormDataContentType(), len(js), nil
}

// newRequestID returns 32 random hex digits.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
