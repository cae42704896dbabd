package sinksim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// APIM token service statuses.
const (
	tokenOK                = 0
	tokenRepeated          = 1001
	tokenUnknownAppKey     = 1002
	tokenInvalidEncryption = 1003
	tokenInvalidParameter  = 1004
	tokenParameterEmpty    = 1202
	tokenRefreshFailed     = 1204
)

type tokenRequest struct {
	AppKey      string `json:"appKey"`
	Encryption  string `json:"encryption"`
	Timestamp   int64  `json:"timestamp"`
	AccessToken string `json:"accessToken"`
}

type tokenData struct {
	AccessToken string `json:"accessToken"`
	Expire      int64  `json:"expire"`
}

type tokenResponse struct {
	Status   int        `json:"status"`
	Msg      string     `json:"msg"`
	Business string     `json:"business"`
	Data     *tokenData `json:"data,omitempty"`
}

func (e *EnOS) serveTokenGet(w http.ResponseWriter, r *http.Request) {
	e.serveToken(w, r, false)
}

func (e *EnOS) serveTokenRefresh(w http.ResponseWriter, r *http.Request) {
	e.serveToken(w, r, true)
}

// serveToken answers like the APIM token service: always HTTP 200, the
// outcome in "status".
func (e *EnOS) serveToken(w http.ResponseWriter, r *http.Request, refresh bool) {
	status, msg, data := e.issueToken(r, refresh)
	if status != tokenOK {
		e.log.Info().Int("status", status).Str("msg", msg).Bool("refresh", refresh).Msg("rejected token request")
	}
	writeJSON(w, http.StatusOK, tokenResponse{Status: status, Msg: msg, Business: "apim-token-service", Data: data})
}

func (e *EnOS) issueToken(r *http.Request, refresh bool) (int, string, *tokenData) {
	var req tokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&req); err != nil {
		return tokenInvalidParameter, "invalid JSON: " + err.Error(), nil
	}
	if req.AppKey == "" || req.Encryption == "" || req.Timestamp == 0 || (refresh && req.AccessToken == "") {
		return tokenParameterEmpty, "parameter empty", nil
	}
	now := time.Now()

	e.mu.Lock()
	defer e.mu.Unlock()
	if refresh {
		e.stats.TokenRefreshes++
	} else {
		e.stats.TokenGets++
	}
	secret, ok := e.cfg.Credentials[req.AppKey]
	if !ok {
		e.stats.TokenRejected++
		return tokenUnknownAppKey, "appKey does not exist", nil
	}
	skew := now.Sub(time.UnixMilli(req.Timestamp))
	if skew > e.cfg.TimestampSkew || skew < -e.cfg.TimestampSkew {
		e.stats.TokenRejected++
		return tokenInvalidParameter, "timestamp out of range", nil
	}
	sum := sha256.Sum256([]byte(req.AppKey + strconv.FormatInt(req.Timestamp, 10) + secret))
	if req.Encryption != hex.EncodeToString(sum[:]) {
		e.stats.TokenRejected++
		return tokenInvalidEncryption, "invalid encryption", nil
	}
	for enc, ts := range e.seen {
		if now.Sub(ts) > e.cfg.TimestampSkew {
			delete(e.seen, enc)
		}
	}
	if _, dup := e.seen[req.Encryption]; dup {
		e.stats.TokenRejected++
		return tokenRepeated, "repeated request", nil
	}
	e.seen[req.Encryption] = time.UnixMilli(req.Timestamp)

	if refresh {
		old, ok := e.tokens[req.AccessToken]
		if !ok || old.appKey != req.AppKey || !now.Before(old.expires) {
			e.stats.TokenRejected++
			return tokenRefreshFailed, "refresh failed: unknown or expired accessToken", nil
		}
	} else if cur, ok := e.tokens[e.current[req.AppKey]]; ok && now.Before(cur.expires) {
		// A repeated get before expiry returns the same token.
		left := max(int64(cur.expires.Sub(now)/time.Second), 1)
		return tokenOK, "OK", &tokenData{AccessToken: e.current[req.AppKey], Expire: left}
	}
	token := newToken()
	e.tokens[token] = &enosToken{appKey: req.AppKey, expires: now.Add(e.cfg.TokenTTL)}
	e.current[req.AppKey] = token
	return tokenOK, "OK", &tokenData{AccessToken: token, Expire: int64(e.cfg.TokenTTL / time.Second)}
}

// tokenState reports whether token was issued and whether it is unexpired.
func (e *EnOS) tokenState(token string) (known, valid bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tokens[token]
	if !ok {
		return false, false
	}
	return true, time.Now().Before(t.expires)
}

func newToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "sim-" + hex.EncodeToString(b[:])
}
