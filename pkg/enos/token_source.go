package enos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// Token service paths, relative to Config.APIMURL.
const (
	TokenGetPath     = "/apim-token-service/v2.0/token/get"
	TokenRefreshPath = "/apim-token-service/v2.0/token/refresh"
)

// APIM token service status codes.
const (
	StatusOK                 = 0
	StatusRepeatedRequest    = 1001
	StatusUnknownAppKey      = 1002
	StatusInvalidEncryption  = 1003
	StatusInvalidParameter   = 1004
	StatusInternalError      = 1005
	StatusParameterEmpty     = 1202
	StatusAccessTokenExpired = 1203
	StatusRefreshFailed      = 1204
	maxResponseBytes         = 1 << 20
)

// ErrAuth marks a failure to obtain a token because the token service
// rejected the credentials (unknown access key, wrong secret). It is wrapped
// in a retryable error: the records are not at fault, the configuration is.
var ErrAuth = errors.New("EnOS token service rejected the credentials")

// Encryption returns the APIM request signature: lowercase hex of
// sha256(appKey + timestamp + appSecret), timestamp in epoch milliseconds.
func Encryption(appKey string, timestampMs int64, appSecret string) string {
	sum := sha256.Sum256([]byte(appKey + strconv.FormatInt(timestampMs, 10) + appSecret))
	return hex.EncodeToString(sum[:])
}

// TokenRequest is the body of a token get or refresh request.
type TokenRequest struct {
	AppKey      string `json:"appKey"`
	Encryption  string `json:"encryption"`
	Timestamp   int64  `json:"timestamp"`
	AccessToken string `json:"accessToken,omitempty"`
}

// TokenResponse is the body of a token service response.
type TokenResponse struct {
	Status   int    `json:"status"`
	Msg      string `json:"msg"`
	Business string `json:"business,omitempty"`
	Data     *struct {
		AccessToken string `json:"accessToken"`
		Expire      int64  `json:"expire"`
	} `json:"data,omitempty"`
}

// TokenSource obtains APIM access tokens and caches the current one. It
// refreshes the token RefreshAhead before expiry, falling back to a new get
// when the refresh fails. It is safe for concurrent use; concurrent callers
// share one token request.
type TokenSource struct {
	cfg Config
	log zerolog.Logger
	// sem is a one-slot lock that a waiter can abandon when its ctx ends.
	sem chan struct{}

	mu      sync.Mutex
	token   string
	expires time.Time
	lastTS  int64
}

func newTokenSource(cfg Config, log zerolog.Logger) *TokenSource {
	return &TokenSource{cfg: cfg, log: log, sem: make(chan struct{}, 1)}
}

// Token returns a valid access token, getting or refreshing one if needed.
// It blocks until the token service answered or ctx ends. Errors are
// classified with sinkerr (always retryable, except a ctx error).
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for EnOS token: %w", ctx.Err())
	}
	defer func() { <-s.sem }()

	s.mu.Lock()
	token, expires := s.token, s.expires
	s.mu.Unlock()
	now := time.Now()
	if token != "" && now.Before(expires.Add(-s.cfg.RefreshAhead)) {
		return token, nil
	}
	if token != "" && now.Before(expires) {
		newToken, ttl, err := s.request(ctx, TokenRefreshPath, token)
		if err == nil {
			s.store(newToken, ttl)
			s.log.Debug().Dur("expires_in", ttl).Msg("refreshed EnOS access token")
			return newToken, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		s.log.Warn().Err(err).Msg("refreshing EnOS access token failed, getting a new one")
	}
	newToken, ttl, err := s.request(ctx, TokenGetPath, "")
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("getting EnOS access token failed")
		}
		return "", err
	}
	s.store(newToken, ttl)
	s.log.Debug().Dur("expires_in", ttl).Msg("got EnOS access token")
	return newToken, nil
}

// Invalidate drops token from the cache if it is still the current one, so
// the next Token call gets a new one. Call it when the API rejected token.
func (s *TokenSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
		s.expires = time.Time{}
	}
}

func (s *TokenSource) store(token string, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
	s.expires = time.Now().Add(ttl)
}

// timestamp returns a fresh epoch-ms timestamp, strictly increasing so two
// requests in the same millisecond never repeat an encryption (status 1001).
func (s *TokenSource) timestamp() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := time.Now().UnixMilli()
	if ts <= s.lastTS {
		ts = s.lastTS + 1
	}
	s.lastTS = ts
	return ts
}

// errRepeated is status 1001: another request (from another client with
// the same access key, say) used the same timestamp.
var errRepeated = errors.New("repeated token request")

// request asks the token service for a token, again with a fresh timestamp
// (twice at most) if one collided with another request's (status 1001).
// Another client with the same access key (a second replica, say) counts
// milliseconds too, so the next timestamp jumps a random few milliseconds
// ahead rather than by one, which could collide again.
func (s *TokenSource) request(ctx context.Context, path, current string) (string, time.Duration, error) {
	token, ttl, err := s.requestOnce(ctx, path, current)
	for retry := 0; retry < 2 && errors.Is(err, errRepeated); retry++ {
		s.mu.Lock()
		s.lastTS += 1 + rand.Int64N(50)
		s.mu.Unlock()
		token, ttl, err = s.requestOnce(ctx, path, current)
	}
	return token, ttl, err
}

func (s *TokenSource) requestOnce(ctx context.Context, path, current string) (string, time.Duration, error) {
	ts := s.timestamp()
	body, err := json.Marshal(TokenRequest{
		AppKey:      s.cfg.AccessKey,
		Encryption:  Encryption(s.cfg.AccessKey, ts, s.cfg.SecretKey),
		Timestamp:   ts,
		AccessToken: current,
	})
	if err != nil {
		return "", 0, fmt.Errorf("encoding token request: %w", err)
	}
	reqCtx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, joinURL(s.cfg.APIMURL, path), bytes.NewReader(body))
	if err != nil {
		return "", 0, fmt.Errorf("building token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("requesting EnOS token: %w", ctx.Err())
		}
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("requesting EnOS token: %w", err), 0)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("reading EnOS token response: %w", err), 0)
	}
	if resp.StatusCode/100 != 2 {
		retryAfter := sinkerr.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("requesting EnOS token: HTTP %d: %s", resp.StatusCode, truncate(raw)), retryAfter)
	}
	var tr TokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("decoding EnOS token response: %w", err), 0)
	}
	switch tr.Status {
	case StatusOK:
	case StatusRepeatedRequest:
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("requesting EnOS token: status %d %q: %w", tr.Status, tr.Msg, errRepeated), 0)
	case StatusUnknownAppKey, StatusInvalidEncryption:
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("requesting EnOS token: status %d %q: %w", tr.Status, tr.Msg, ErrAuth), 0)
	default:
		return "", 0, sinkerr.NewRetryable(fmt.Errorf("requesting EnOS token: status %d %q", tr.Status, tr.Msg), 0)
	}
	if tr.Data == nil || tr.Data.AccessToken == "" || tr.Data.Expire <= 0 {
		return "", 0, sinkerr.NewRetryable(errors.New("requesting EnOS token: response holds no token or expiry"), 0)
	}
	return tr.Data.AccessToken, time.Duration(tr.Data.Expire) * time.Second, nil
}

func joinURL(base, path string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + path
}

func truncate(b []byte) string {
	const limit = 512
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
