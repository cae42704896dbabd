package snotisim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Handler serves the control API:
//
//	GET  /ledger                 Summary and Latency
//	GET  /ledger/entries?since=N entries with message id > N (at most 10000)
//	GET  /connections            logged-in connections
//	POST /connections/drop       close every connection
//	POST /connections/logout     forget every login, connections kept (then 4003)
//	POST /connections/invalid?code=N&msg=…  send invalid_msg to every connection
//	GET  /faults                 the faults in force
//	PUT  /faults                 replace them (JSON Faults, delay as "5ms")
//	POST /events                 publish {"product_key","event_type","did","mac","fields":{…}}
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ledger", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, struct {
			Summary Summary `json:"summary"`
			Latency Latency `json:"ack_latency"`
		}{s.Summary(), s.AckLatency()})
	})
	mux.HandleFunc("GET /ledger/entries", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		writeJSON(w, http.StatusOK, s.entriesSince(since, 10000))
	})
	mux.HandleFunc("GET /connections", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Connections())
	})
	mux.HandleFunc("POST /connections/drop", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"dropped": s.DropConnections()})
	})
	mux.HandleFunc("POST /connections/logout", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"logged_out": s.ForgetLogins()})
	})
	mux.HandleFunc("POST /connections/invalid", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want ?code=<int>, e.g. 4001"})
			return
		}
		msg := r.URL.Query().Get("msg")
		if msg == "" {
			msg = "injected by the simulator"
		}
		writeJSON(w, http.StatusOK, map[string]int{"sent": s.SendInvalidMsg(code, msg)})
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := s.SetFaults(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("POST /events", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ProductKey string         `json:"product_key"`
			EventType  string         `json:"event_type"`
			DID        string         `json:"did"`
			MAC        string         `json:"mac"`
			Fields     map[string]any `json:"fields"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&in); err != nil || in.EventType == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {product_key, event_type, did, mac, fields}"})
			return
		}
		seq, err := s.Publish(Event{ProductKey: in.ProductKey, EventType: in.EventType, DID: in.DID, MAC: in.MAC, Fields: in.Fields})
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]uint64{"seq": seq})
	})
	return mux
}

func (s *Server) entriesSince(since uint64, limit int) []Entry {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	out := []Entry{}
	for i := range s.b.ledger.entries {
		e := &s.b.ledger.entries[i]
		if e.message > since {
			out = append(out, e.export())
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
