package sinksim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// integrationMethods maps each action to the method its message must name.
var integrationMethods = map[string]string{
	"postMeasurepoint": "integration.measurepoint.post",
	"postAttribute":    "integration.attribute.post",
	"postEvent":        "integration.event.post",
}

// maxRequestBytes bounds a whole integration request, file parts included.
const maxRequestBytes = 16 << 20

type integrationResponse struct {
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	RequestID string `json:"requestId"`
	Data      any    `json:"data"`
}

type integrationMessage struct {
	ID       string            `json:"id"`
	Version  string            `json:"version"`
	Method   string            `json:"method"`
	Params   []json.RawMessage `json:"params"`
	Realtime *bool             `json:"isRealtimeIntegration"`
}

// decodedMessage is an integrationMessage with its entries decoded in the
// same pass: what a well-formed message costs. Only when that fails is the
// message decoded again as an integrationMessage, to say which part is
// wrong.
type decodedMessage struct {
	ID       string             `json:"id"`
	Version  string             `json:"version"`
	Method   string             `json:"method"`
	Params   []integrationEntry `json:"params"`
	Realtime *bool              `json:"isRealtimeIntegration"`
}

// messageHeader is what validateMessage and store need of a message beside
// its entries.
type messageHeader struct {
	id       string
	method   string
	entries  int
	realtime *bool
}

type integrationEntry struct {
	EnOSDevice
	Time          int64                     `json:"time"`
	Measurepoints map[string]any            `json:"measurepoints"`
	Events        map[string]map[string]any `json:"events"`
	Attributes    map[string]any            `json:"attributes"`
}

// rejection is a request the emulator refuses.
type rejection struct {
	status int
	code   int
	msg    string
}

func (e *EnOS) serveIntegration(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	action := r.URL.Query().Get("action")
	rec := EnOSRequest{Action: action, ReceivedAt: time.Now()}
	reply := func(status, code int, msg string) {
		rec.HTTPStatus, rec.Code, rec.Msg = status, code, msg
		e.record(rec, code == 0)
		if code != 0 {
			e.log.Info().Str("action", action).Str("message_id", rec.MessageID).Int("status", status).Int("code", code).Str("msg", msg).Msg("rejected integration request")
		}
		writeJSON(w, status, integrationResponse{Code: code, Msg: msg, RequestID: requestID})
	}

	// Read the whole body first: the server notices a client that gave up
	// (and cancels r.Context, ending injected latency) only after EOF.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		reply(http.StatusRequestEntityTooLarge, CodeMessageTooLarge, "reading request: "+err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if e.faults.apply(r.Context(), w, func(status int) any {
		return integrationResponse{Code: status, Msg: "injected fault", RequestID: requestID}
	}) {
		e.notify.changed()
		return
	}
	if r.Method != http.MethodPost {
		reply(http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	token := r.Header.Get("apim-accesstoken")
	if token == "" {
		reply(http.StatusUnauthorized, CodeUnauthorized, "missing apim-accesstoken header")
		return
	}
	switch known, valid := e.tokenState(token); {
	case !known:
		reply(http.StatusUnauthorized, CodeUnauthorized, "invalid access token")
		return
	case !valid:
		reply(http.StatusOK, CodeTokenExpired, "access token expired")
		return
	}
	method, ok := integrationMethods[action]
	if !ok {
		reply(http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("unknown action %q", action))
		return
	}
	if org := r.URL.Query().Get("orgId"); org == "" || (e.cfg.OrgID != "" && org != e.cfg.OrgID) {
		reply(http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("unknown orgId %q", r.URL.Query().Get("orgId")))
		return
	}
	raw, rej := e.readMessagePart(r)
	rec.MessageBytes = len(raw)
	if rej != nil {
		reply(rej.status, rej.code, rej.msg)
		return
	}
	h, entry, err := decodeMessage(raw)
	if err != nil {
		reply(http.StatusBadRequest, CodeInvalidParameter, "invalid enos-message JSON: "+err.Error())
		return
	}
	rec.MessageID, rec.Entries = h.id, h.entries
	entries, rej := e.validateMessage(h, entry, method)
	if rej != nil {
		reply(rej.status, rej.code, rej.msg)
		return
	}
	e.store(action, h, entries)
	reply(http.StatusOK, 0, "OK")
}

// decodeMessage parses an enos-message: its header and a function
// returning entry i decoded, or why it cannot be. A well-formed message is
// decoded in one pass; otherwise the entries are kept raw and decoded one
// at a time, so that validateMessage names the first bad one (and checks
// the header before it) exactly as when every message was decoded so.
func decodeMessage(raw []byte) (messageHeader, func(i int) (*integrationEntry, error), error) {
	if h, entry, ok := decodeWhole(raw); ok {
		return h, entry, nil
	}
	return decodeByEntry(raw)
}

// decodeWhole decodes the message and its entries in one pass (fastDecode's,
// parsed by fastjson, when it can, else encoding/json's), or reports false.
func decodeWhole(raw []byte) (messageHeader, func(i int) (*integrationEntry, error), bool) {
	var d decodedMessage
	if !fastDecode(raw, &d) {
		d = decodedMessage{}
		if json.Unmarshal(raw, &d) != nil {
			return messageHeader{}, nil, false
		}
	}
	return messageHeader{id: d.ID, method: d.Method, entries: len(d.Params), realtime: d.Realtime},
		func(i int) (*integrationEntry, error) { return &d.Params[i], nil }, true
}

// decodeByEntry decodes the message with its entries raw; entry decodes
// each when asked.
func decodeByEntry(raw []byte) (messageHeader, func(i int) (*integrationEntry, error), error) {
	var m integrationMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return messageHeader{}, nil, err
	}
	return messageHeader{id: m.ID, method: m.Method, entries: len(m.Params), realtime: m.Realtime},
		func(i int) (*integrationEntry, error) {
			var en integrationEntry
			return &en, json.Unmarshal(m.Params[i], &en)
		}, nil
}

// readMessagePart returns the enos-message part, reading and discarding
// any file parts.
func (e *EnOS) readMessagePart(r *http.Request) ([]byte, *rejection) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, &rejection{http.StatusBadRequest, CodeInvalidParameter, "Content-Type must be multipart/form-data"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &rejection{http.StatusBadRequest, CodeInvalidParameter, "malformed multipart: " + err.Error()}
	}
	var msg []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &rejection{http.StatusBadRequest, CodeInvalidParameter, "malformed multipart: " + err.Error()}
		}
		if part.FormName() != "enos-message" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, &rejection{http.StatusBadRequest, CodeInvalidParameter, "malformed multipart: " + err.Error()}
			}
			continue
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(part, int64(e.cfg.MaxMessageBytes)+1))
		if err != nil {
			return nil, &rejection{http.StatusBadRequest, CodeInvalidParameter, "malformed multipart: " + err.Error()}
		}
		if n > int64(e.cfg.MaxMessageBytes) {
			return buf.Bytes(), &rejection{http.StatusRequestEntityTooLarge, CodeMessageTooLarge,
				fmt.Sprintf("enos-message exceeds %d bytes", e.cfg.MaxMessageBytes)}
		}
		msg = buf.Bytes()
	}
	if msg == nil {
		return nil, &rejection{http.StatusBadRequest, CodeInvalidParameter, "no enos-message part"}
	}
	return msg, nil
}

// validateMessage checks the message against the action and the known
// devices. Structural problems are HTTP 400; unknown devices are HTTP 200
// with a non-zero code, as the real API reports business errors.
//
// entry returns the i-th entry decoded, or why it cannot be.
func (e *EnOS) validateMessage(m messageHeader, entry func(i int) (*integrationEntry, error), method string) ([]*integrationEntry, *rejection) {
	bad := func(format string, args ...any) *rejection {
		return &rejection{http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf(format, args...)}
	}
	if m.method != method {
		return nil, bad("method %q does not match the action (want %q)", m.method, method)
	}
	if m.id == "" {
		return nil, bad("message id is empty")
	}
	if m.entries == 0 {
		return nil, bad("params is empty")
	}
	entries := make([]*integrationEntry, m.entries)
	for i := range entries {
		en, err := entry(i)
		if err != nil {
			return nil, bad("params[%d]: %v", i, err)
		}
		entries[i] = en
		if en.AssetID == "" && (en.ProductKey == "" || en.DeviceKey == "") {
			return nil, bad("params[%d]: needs assetId or productKey and deviceKey", i)
		}
		switch method {
		case "integration.measurepoint.post":
			if en.Time <= 0 || len(en.Measurepoints) == 0 {
				return nil, bad("params[%d]: needs time and measurepoints", i)
			}
			for id, v := range en.Measurepoints {
				if obj, ok := v.(map[string]any); ok {
					if _, ok := obj["value"]; !ok {
						return nil, bad("params[%d]: measurepoint %q: object value needs a \"value\" field", i, id)
					}
				}
			}
		case "integration.event.post":
			if en.Time <= 0 || len(en.Events) == 0 {
				return nil, bad("params[%d]: needs time and events", i)
			}
		case "integration.attribute.post":
			if len(en.Attributes) == 0 {
				return nil, bad("params[%d]: needs attributes", i)
			}
		}
		if e.known != nil && !e.known[en.key()] {
			return nil, &rejection{http.StatusOK, CodeUnknownDevice, fmt.Sprintf("params[%d]: device %s not found", i, en.key())}
		}
	}
	return entries, nil
}

func (e *EnOS) store(action string, m messageHeader, entries []*integrationEntry) {
	now := time.Now()
	realtime := m.realtime == nil || *m.realtime
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, en := range entries {
		switch action {
		case "postMeasurepoint":
			for id, v := range en.Measurepoints {
				e.seq.points++
				e.stats.Points++
				e.points.push(EnOSPoint{Seq: e.seq.points, EnOSDevice: en.EnOSDevice, PointID: id, Value: v, Time: en.Time, Realtime: realtime, MessageID: m.id, ReceivedAt: now})
			}
		case "postEvent":
			for id, params := range en.Events {
				e.seq.events++
				e.stats.Events++
				e.events.push(EnOSEvent{Seq: e.seq.events, EnOSDevice: en.EnOSDevice, EventID: id, Params: params, Time: en.Time, Realtime: realtime, MessageID: m.id, ReceivedAt: now})
			}
		case "postAttribute":
			for name, v := range en.Attributes {
				e.seq.attributes++
				e.stats.Attributes++
				e.attributes.push(EnOSAttribute{Seq: e.seq.attributes, EnOSDevice: en.EnOSDevice, Name: name, Value: v, Realtime: realtime, MessageID: m.id, ReceivedAt: now})
			}
		}
	}
}

// record logs a served request and wakes waiters.
func (e *EnOS) record(rec EnOSRequest, accepted bool) {
	e.mu.Lock()
	e.seq.requests++
	rec.Seq = e.seq.requests
	e.requests.push(rec)
	e.stats.Requests++
	if accepted {
		e.stats.Accepted++
	} else {
		e.stats.Rejected++
	}
	e.mu.Unlock()
	e.notify.changed()
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
