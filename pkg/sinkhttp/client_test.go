package sinkhttp_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/sinkhttp"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name       string
		url        string
		allowPlain bool
		wantErr    error // nil: accepted; errAny: any error
	}{
		{name: "https", url: "https://apim.example/"},
		{name: "http loopback ip", url: "http://127.0.0.1:8090/push"},
		{name: "http loopback v6", url: "http://[::1]:8090"},
		{name: "http localhost", url: "http://localhost:8090"},
		{name: "http remote", url: "http://sink-sim:8090", wantErr: sinkhttp.ErrPlainHTTP},
		{name: "http remote ip", url: "http://10.0.0.1", wantErr: sinkhttp.ErrPlainHTTP},
		{name: "localhost lookalike", url: "http://localhost.example.com", wantErr: sinkhttp.ErrPlainHTTP},
		{name: "http remote allowed", url: "http://sink-sim:8090", allowPlain: true},
		{name: "ftp", url: "ftp://x", wantErr: errAny},
		{name: "relative", url: "/push", wantErr: errAny},
		{name: "empty", url: "", wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sinkhttp.CheckURL(tt.url, tt.allowPlain)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("CheckURL(%q) = %v, want nil", tt.url, err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("CheckURL(%q) = %v, want %v", tt.url, err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestNoRedirects(t *testing.T) {
	var followed int
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed++ }))
	defer target.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere?x=1", http.StatusTemporaryRedirect)
	}))
	defer origin.Close()

	for _, c := range []*http.Client{sinkhttp.NewClient(), sinkhttp.NoRedirects(origin.Client()), sinkhttp.NoRedirects(nil)} {
		req, _ := http.NewRequest(http.MethodPost, origin.URL+"/push?orgId=o", strings.NewReader("{}"))
		req.Header.Set("apim-accesstoken", "secret")
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("Do followed or accepted the redirect (status %d)", resp.StatusCode)
		}
		if !errors.Is(err, sinkhttp.ErrRedirect) || !strings.Contains(err.Error(), target.URL+"/elsewhere") {
			t.Fatalf("Do = %v, want ErrRedirect naming the target", err)
		}
	}
	if followed != 0 {
		t.Fatalf("the redirect target got %d requests, want 0", followed)
	}
}
