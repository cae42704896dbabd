package sinksim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// FuzzEnOSIntegration feeds arbitrary multipart bodies to the integration
// endpoint: it must answer JSON with a status, never panic, and store
// points only when it answered code 0.
func FuzzEnOSIntegration(f *testing.F) {
	f.Add([]byte(`{"id":"m","version":"1.1","method":"integration.measurepoint.post","params":[{"assetId":"a","time":1,"measurepoints":{"p":1}}]}`), "b")
	f.Add([]byte(`{"id":"m","method":"integration.measurepoint.post","params":[{"assetId":"a","time":1,"measurepoints":{"p":{"quality":1}}}]}`), "b")
	f.Add([]byte(`{"params":null}`), "xyz")
	emu, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}}, zerolog.Nop())
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	f.Cleanup(srv.Close)
	token := getTokenFrom(f, srv.URL)
	f.Fuzz(func(t *testing.T, msg []byte, boundary string) {
		var body bytes.Buffer
		body.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"enos-message\"\r\n\r\n")
		body.Write(msg)
		body.WriteString("\r\n--" + boundary + "--\r\n")
		req := httptest.NewRequest(http.MethodPost, "/connect-service/v2.1/integration?action=postMeasurepoint&orgId=o", &body)
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		req.Header.Set("apim-accesstoken", token)
		before := len(emu.Points())
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		var r struct {
			Code *int `json:"code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Code == nil {
			t.Fatalf("HTTP %d, body %q: not a JSON answer with a code", rec.Code, rec.Body.String())
		}
		if *r.Code != 0 && len(emu.Points()) != before {
			t.Fatalf("rejected message (code %d) stored points", *r.Code)
		}
	})
}

// FuzzEnergismePush feeds arbitrary bodies to the push endpoint: accepted
// ones must decode to the stored bytes.
func FuzzEnergismePush(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2019-04-28T12:59:36.599Z","deviceid":"1","payload":"2367A3","devicetype":"t"}`))
	f.Add([]byte(`{"timestamp":"2019-04-28T12:59:36.599Z","deviceid":"1","payload":"zz","devicetype":"t"}`))
	f.Add([]byte(`[]`))
	emu, err := sinksim.NewEnergisme(sinksim.EnergismeConfig{Token: "tok"}, zerolog.Nop())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/push", bytes.NewReader(body))
		req.Header.Set("Authorization", "Basic tok")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("source", "generic-sensors")
		before := len(emu.Uplinks())
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		ups := emu.Uplinks()
		switch rec.Code {
		case http.StatusOK:
			if len(ups) != before+1 {
				t.Fatalf("accepted but stored %d uplinks (was %d)", len(ups), before)
			}
			u := ups[len(ups)-1]
			if u.DeviceID == "" || u.DeviceType == "" || len(u.Payload) == 0 || u.Time.Location() != time.UTC {
				t.Fatalf("accepted an incomplete uplink %+v", u)
			}
		case http.StatusBadRequest:
			if len(ups) != before {
				t.Fatal("rejected body was stored")
			}
		default:
			t.Fatalf("HTTP %d for body %q", rec.Code, body)
		}
	})
}

func getTokenFrom(tb testing.TB, base string) string {
	tb.Helper()
	ts := time.Now().UnixMilli()
	b, _ := json.Marshal(map[string]any{"appKey": "ak", "timestamp": ts, "encryption": sign("ak", ts, "sk")})
	resp, err := http.Post(base+"/apim-token-service/v2.0/token/get", "application/json", bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r tokenReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Data == nil {
		tb.Fatalf("no token: %+v, %v", r, err)
	}
	return r.Data.AccessToken
}
