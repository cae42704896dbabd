package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name    string
		url     string
		wantErr bool
	}{
		{name: "ready", url: srv.URL + "/readyz"},
		{name: "not ready", url: srv.URL + "/other", wantErr: true},
		{name: "nothing listening", url: closed.URL + "/readyz", wantErr: true},
		{name: "bad url", url: "://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := probe(tt.url, time.Second)
			if (err != nil) != tt.wantErr {
				t.Errorf("probe(%s) = %v, wantErr %v", tt.url, err, tt.wantErr)
			}
		})
	}
}
