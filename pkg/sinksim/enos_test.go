package sinksim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

func newEnOS(t *testing.T) (*sinksim.EnOS, *httptest.Server) {
	t.Helper()
	emu, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, OrgID: "org"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv
}

func sign(appKey string, ts int64, secret string) string {
	sum := sha256.Sum256([]byte(appKey + strconv.FormatInt(ts, 10) + secret))
	return hex.EncodeToString(sum[:])
}

type tokenReply struct {
	Status int    `json:"status"`
	Msg    string `json:"msg"`
	Data   *struct {
		AccessToken string `json:"accessToken"`
		Expire      int64  `json:"expire"`
	} `json:"data"`
}

func postJSON(t *testing.T, url string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("decoding %s response: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestEnOSTokenService(t *testing.T) {
	_, srv := newEnOS(t)
	get := srv.URL + "/apim-token-service/v2.0/token/get"
	refresh := srv.URL + "/apim-token-service/v2.0/token/refresh"
	now := time.Now().UnixMilli()
	tests := []struct {
		name       string
		url        string
		body       map[string]any
		wantStatus int
	}{
		{name: "valid", url: get, body: map[string]any{"appKey": "ak", "timestamp": now, "encryption": sign("ak", now, "sk")}, wantStatus: 0},
		{name: "repeated encryption", url: get, body: map[string]any{"appKey": "ak", "timestamp": now, "encryption": sign("ak", now, "sk")}, wantStatus: 1001},
		{name: "unknown appKey", url: get, body: map[string]any{"appKey": "nope", "timestamp": now + 1, "encryption": sign("nope", now+1, "sk")}, wantStatus: 1002},
		{name: "wrong secret", url: get, body: map[string]any{"appKey": "ak", "timestamp": now + 2, "encryption": sign("ak", now+2, "wrong")}, wantStatus: 1003},
		{name: "uppercase encryption", url: get, body: map[string]any{"appKey": "ak", "timestamp": now + 3, "encryption": strings.ToUpper(sign("ak", now+3, "sk"))}, wantStatus: 1003},
		{name: "stale timestamp", url: get, body: map[string]any{"appKey": "ak", "timestamp": now - 6*60*1000, "encryption": sign("ak", now-6*60*1000, "sk")}, wantStatus: 1004},
		{name: "empty parameter", url: get, body: map[string]any{"appKey": "ak"}, wantStatus: 1202},
		{name: "refresh unknown token", url: refresh, body: map[string]any{"appKey": "ak", "timestamp": now + 4, "encryption": sign("ak", now+4, "sk"), "accessToken": "nope"}, wantStatus: 1204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r tokenReply
			if code := postJSON(t, tt.url, tt.body, &r); code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", r.Status, r.Msg, tt.wantStatus)
			}
			if (r.Data != nil && r.Data.AccessToken != "") != (tt.wantStatus == 0) {
				t.Fatalf("data = %+v", r.Data)
			}
		})
	}

	t.Run("repeated get returns the same token, refresh a new one", func(t *testing.T) {
		var a, b, c tokenReply
		ts := time.Now().UnixMilli() + 100
		postJSON(t, get, map[string]any{"appKey": "ak", "timestamp": ts, "encryption": sign("ak", ts, "sk")}, &a)
		postJSON(t, get, map[string]any{"appKey": "ak", "timestamp": ts + 1, "encryption": sign("ak", ts+1, "sk")}, &b)
		postJSON(t, refresh, map[string]any{"appKey": "ak", "timestamp": ts + 2, "encryption": sign("ak", ts+2, "sk"), "accessToken": b.Data.AccessToken}, &c)
		if a.Data.AccessToken != b.Data.AccessToken || a.Data.Expire <= 0 {
			t.Fatalf("gets returned %+v and %+v", a.Data, b.Data)
		}
		if c.Status != 0 || c.Data.AccessToken == b.Data.AccessToken || c.Data.Expire != 7200 {
			t.Fatalf("refresh returned %+v", c)
		}
	})
}

func getToken(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	var r tokenReply
	ts := time.Now().UnixMilli()
	postJSON(t, srv.URL+"/apim-token-service/v2.0/token/get", map[string]any{"appKey": "ak", "timestamp": ts, "encryption": sign("ak", ts, "sk")}, &r)
	if r.Data == nil {
		t.Fatalf("no token: %+v", r)
	}
	return r.Data.AccessToken
}

type integrationReply struct {
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	RequestID string `json:"requestId"`
}

func multipartBody(t *testing.T, part string, content []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormField(part)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

func TestEnOSIntegrationChecks(t *testing.T) {
	emu, srv := newEnOS(t)
	token := getToken(t, srv)
	good := []byte(`{"id":"m1","version":"1.1","method":"integration.measurepoint.post","params":[{"productKey":"pk","deviceKey":"dk","time":1700000000123,"measurepoints":{"temp":12.5}}]}`)
	url := srv.URL + "/connect-service/v2.1/integration?action=postMeasurepoint&orgId=org"
	tests := []struct {
		name        string
		url         string
		token       string
		contentType string
		body        func() (*bytes.Buffer, string)
		wantHTTP    int
		wantCode    int
	}{
		{name: "accepted", url: url, token: token, body: func() (*bytes.Buffer, string) { return multipartBody(t, "enos-message", good) }, wantHTTP: 200, wantCode: 0},
		{name: "missing token", url: url, body: func() (*bytes.Buffer, string) { return multipartBody(t, "enos-message", good) }, wantHTTP: 401, wantCode: 401},
		{name: "unknown token", url: url, token: "forged", body: func() (*bytes.Buffer, string) { return multipartBody(t, "enos-message", good) }, wantHTTP: 401, wantCode: 401},
		{name: "wrong org", url: strings.Replace(url, "orgId=org", "orgId=other", 1), token: token, body: func() (*bytes.Buffer, string) { return multipartBody(t, "enos-message", good) }, wantHTTP: 400, wantCode: 1004},
		{name: "not multipart", url: url, token: token, body: func() (*bytes.Buffer, string) { return bytes.NewBuffer(good), "application/json" }, wantHTTP: 400, wantCode: 1004},
		{name: "malformed multipart", url: url, token: token, body: func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("--b\r\nno headers end"), "multipart/form-data; boundary=b"
		}, wantHTTP: 400, wantCode: 1004},
		{name: "wrong part name", url: url, token: token, body: func() (*bytes.Buffer, string) { return multipartBody(t, "message", good) }, wantHTTP: 400, wantCode: 1004},
		{name: "method mismatch", url: strings.Replace(url, "postMeasurepoint", "postEvent", 1), token: token, body: func() (*bytes.Buffer, string) { return multipartBody(t, "enos-message", good) }, wantHTTP: 400, wantCode: 1004},
		{name: "over 512 KB", url: url, token: token, body: func() (*bytes.Buffer, string) {
			big := fmt.Sprintf(`{"id":"m2","version":"1.1","method":"integration.measurepoint.post","params":[{"productKey":"pk","deviceKey":"dk","time":1,"measurepoints":{"b":"%s"}}]}`, strings.Repeat("x", 512*1024))
			return multipartBody(t, "enos-message", []byte(big))
		}, wantHTTP: 413, wantCode: sinksim.CodeMessageTooLarge},
		{name: "512,001 bytes: over the strict reading of 512 KB", url: url, token: token, body: func() (*bytes.Buffer, string) {
			return multipartBody(t, "enos-message", messageOfSize(512_001))
		}, wantHTTP: 413, wantCode: sinksim.CodeMessageTooLarge},
		{name: "bad JSON", url: url, token: token, body: func() (*bytes.Buffer, string) { return multipartBody(t, "enos-message", []byte("{")) }, wantHTTP: 400, wantCode: 1004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := tt.body()
			req, _ := http.NewRequest(http.MethodPost, tt.url, body)
			req.Header.Set("Content-Type", ct)
			if tt.token != "" {
				req.Header.Set("apim-accesstoken", tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r integrationReply
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantHTTP || r.Code != tt.wantCode || r.RequestID == "" {
				t.Fatalf("HTTP %d code %d (%s), want HTTP %d code %d", resp.StatusCode, r.Code, r.Msg, tt.wantHTTP, tt.wantCode)
			}
		})
	}
	if n := len(emu.Points()); n != 1 {
		t.Fatalf("%d points stored, want 1", n)
	}
}

func TestEnOSControlAPI(t *testing.T) {
	emu, srv := newEnOS(t)
	token := getToken(t, srv)
	if code := postJSON(t, srv.URL+"/sim/enos/faults", map[string]any{"status": 429, "next": 1, "retryAfterMs": 3000}, nil); code != 200 {
		t.Fatalf("setting faults: HTTP %d", code)
	}
	send := func() *http.Response {
		body, ct := multipartBody(t, "enos-message", []byte(`{"id":"m1","version":"1.1","method":"integration.measurepoint.post","params":[{"assetId":"a1","time":5,"measurepoints":{"v":1}}]}`))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/connect-service/v2.1/integration?action=postMeasurepoint&orgId=org", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("apim-accesstoken", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := send(); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("first request: HTTP %d Retry-After %q, want 429 and 3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := send(); resp.StatusCode != 200 {
		t.Fatalf("second request: HTTP %d, want 200", resp.StatusCode)
	}
	resp, err := http.Get(srv.URL + "/sim/enos/points")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var points []sinksim.EnOSPoint
	if err := json.NewDecoder(resp.Body).Decode(&points); err != nil {
		t.Fatal(err)
	}
	if len(points) != 1 || points[0].AssetID != "a1" || points[0].PointID != "v" || points[0].Value != 1.0 || points[0].Time != 5 || !points[0].Realtime {
		t.Fatalf("points = %+v", points)
	}
	if s := emu.Stats(); s.Faults != 1 || s.Accepted != 1 {
		t.Fatalf("stats = %+v", s)
	}
	postJSON(t, srv.URL+"/sim/enos/reset", nil, nil)
	if len(emu.Points()) != 0 {
		t.Fatal("reset kept points")
	}
}

// messageOfSize is a valid measurepoint message of exactly n bytes.
func messageOfSize(n int) []byte {
	const head, tail = `{"id":"m3","version":"1.1","method":"integration.measurepoint.post","params":[{"productKey":"pk","deviceKey":"dk","time":1,"measurepoints":{"b":"`, `"}}]}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}
