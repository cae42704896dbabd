package sinksim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

func TestRetentionAndListingFilters(t *testing.T) {
	emu, err := sinksim.NewEnOS(sinksim.EnOSConfig{Credentials: map[string]string{"ak": "sk"}, MaxStored: 10}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	token := getToken(t, srv)
	for i := 1; i <= 25; i++ {
		dk := "even"
		if i%2 == 1 {
			dk = "odd"
		}
		msg := fmt.Sprintf(`{"id":"m%d","version":"1.1","method":"integration.measurepoint.post","params":[{"productKey":"pk","deviceKey":%q,"time":%d,"measurepoints":{"v":%d}}]}`, i, dk, i, i)
		body, ct := multipartBody(t, "enos-message", []byte(msg))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/connect-service/v2.1/integration?action=postMeasurepoint&orgId=o", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("apim-accesstoken", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	points := emu.Points()
	if s := emu.Stats(); s.Points != 25 || len(points) > 10 || points[len(points)-1].Seq != 25 {
		t.Fatalf("stats %+v, %d retained, last seq %d: want 25 counted, at most 10 retained, last seq 25", s, len(points), points[len(points)-1].Seq)
	}
	tests := []struct {
		name     string
		query    string
		wantSeqs []int64
	}{
		{name: "after", query: "?after=22", wantSeqs: []int64{23, 24, 25}},
		{name: "after and limit", query: "?after=20&limit=2", wantSeqs: []int64{21, 22}},
		{name: "device filter", query: "?after=20&deviceKey=even", wantSeqs: []int64{22, 24}},
		{name: "point filter", query: "?after=20&pointId=nope", wantSeqs: []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/sim/enos/points" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got []sinksim.EnOSPoint
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			seqs := []int64{}
			for _, p := range got {
				seqs = append(seqs, p.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.wantSeqs) {
				t.Fatalf("seqs = %v, want %v", seqs, tt.wantSeqs)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/sim/enos/points?after=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad after: HTTP %d, want 400", resp.StatusCode)
	}
}

// TestEnergismeRetention: the Energisme emulator keeps the last MaxStored
// uplinks and request records, oldest first, and counts every one.
func TestEnergismeRetention(t *testing.T) {
	emu, err := sinksim.NewEnergisme(sinksim.EnergismeConfig{Token: "tok", MaxStored: 10}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	for i := 1; i <= 25; i++ {
		body := fmt.Sprintf(`{"timestamp":"2019-04-28T12:59:%02d.000Z","deviceid":"d","payload":"AB","devicetype":"dt"}`, i)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/push", strings.NewReader(body))
		req.Header = http.Header{"Source": {"generic-sensors"}, "Content-Type": {"application/json"}, "Authorization": {"Basic tok"}}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("push %d: status %d", i, resp.StatusCode)
		}
	}
	ups := emu.Uplinks()
	if s := emu.Stats(); s.Accepted != 25 || len(ups) != 10 || ups[0].Seq != 16 || ups[9].Seq != 25 {
		t.Fatalf("stats %+v, %d uplinks kept (seq %d..%d): want 25 accepted, the last 10 kept (16..25)", s, len(ups), ups[0].Seq, ups[len(ups)-1].Seq)
	}
	if n := len(emu.Requests()); n != 10 {
		t.Errorf("%d request records kept, want 10", n)
	}
	emu.Reset()
	if n := len(emu.Uplinks()); n != 0 {
		t.Errorf("%d uplinks after Reset, want 0", n)
	}
}
