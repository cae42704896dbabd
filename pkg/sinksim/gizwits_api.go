package sinksim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// GizwitsProduct is one product the Enterprise API emulator knows.
type GizwitsProduct struct {
	// Secret is the product secret a token request must carry.
	Secret string
	// Datapoint is what GET …/datapoint answers: a data-point definition.
	Datapoint []byte
}

// GizwitsAPIConfig configures the Gizwits Enterprise API emulator.
type GizwitsAPIConfig struct {
	EnterpriseID     string
	EnterpriseSecret string
	Products         map[string]GizwitsProduct
	// TokenTTL is a token's life (default seven days, as the API's).
	TokenTTL time.Duration
	// Devices, when set, applies accepted control calls to virtual devices
	// and may refuse them (an offline device); nil accepts every call.
	Devices GizwitsDevices
}

// GizwitsDevices is what the emulator's control call drives: attrs is the
// "attrs" object of a data-point control, raw the bytes of a pass-through
// one (exactly one is set).
type GizwitsDevices interface {
	Control(productKey, did string, attrs map[string]json.RawMessage, raw []byte) error
}

// GizwitsRefusal is an error a GizwitsDevices returns to make the control
// call fail as the API would, e.g. {400, 5305, "device offline!"}.
type GizwitsRefusal struct {
	Status, Code int
	Message      string
}

func (r *GizwitsRefusal) Error() string { return r.Message }

// GizwitsControl is one control call the emulator accepted.
type GizwitsControl struct {
	Seq        int64           `json:"seq"`
	ProductKey string          `json:"product_key"`
	DID        string          `json:"did"`
	Body       json.RawMessage `json:"body"`
	Received   time.Time       `json:"received"`
}

// GizwitsAPI emulates the calls of the Gizwits Enterprise API that
// snotibridge makes (shared/reference/gizwits-enterprise-api.md): the
// per-product token, the data-point definition and remote control. It
// checks the credentials and the "Authorization: token <value>" header as
// the API documents and answers errors in its shape: an HTTP status and
// {"error_code","error_message","detail_message"}.
type GizwitsAPI struct {
	cfg GizwitsAPIConfig
	log zerolog.Logger

	mu       sync.Mutex
	tokens   map[string]gizwitsToken // token value → its product and expiry
	controls []GizwitsControl
	seq      int64
	now      func() time.Time
}

type gizwitsToken struct {
	productKey string
	expires    time.Time
}

// NewGizwitsAPI validates cfg and returns the emulator.
func NewGizwitsAPI(cfg GizwitsAPIConfig, log zerolog.Logger) (*GizwitsAPI, error) {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 7 * 24 * time.Hour
	}
	if cfg.EnterpriseID == "" || cfg.EnterpriseSecret == "" {
		return nil, errors.New("Gizwits API emulator: EnterpriseID and EnterpriseSecret are required")
	}
	return &GizwitsAPI{
		cfg: cfg, log: log.With().Str("emulator", "gizwits-api").Logger(),
		tokens: map[string]gizwitsToken{}, now: time.Now,
	}, nil
}

// Register adds the API's routes and GET /sim/gizwits/controls to mux.
func (g *GizwitsAPI) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/products/{product_key}/access_token", g.serveToken)
	mux.HandleFunc("GET /v1/products/{product_key}/datapoint", g.serveDatapoint)
	mux.HandleFunc("POST /v1/products/{product_key}/devices/{did}/control", g.serveControl)
	mux.HandleFunc("GET /sim/gizwits/controls", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, g.Controls())
	})
}

// Controls returns every accepted control call in order.
func (g *GizwitsAPI) Controls() []GizwitsControl {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]GizwitsControl(nil), g.controls...)
}

// ExpireTokens makes every issued token expired, as after seven days.
func (g *GizwitsAPI) ExpireTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for v, t := range g.tokens {
		t.expires = time.Time{}
		g.tokens[v] = t
	}
}

func gizwitsError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"error_code": code, "error_message": msg, "detail_message": nil})
}

func (g *GizwitsAPI) serveToken(w http.ResponseWriter, r *http.Request) {
	pk := r.PathValue("product_key")
	var req struct {
		EnterpriseID     string `json:"enterprise_id"`
		EnterpriseSecret string `json:"enterprise_secret"`
		ProductSecret    string `json:"product_secret"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		gizwitsError(w, http.StatusBadRequest, 5001, "body json invalid")
		return
	}
	p, known := g.cfg.Products[pk]
	switch {
	case req.EnterpriseID == "" || req.EnterpriseSecret == "" || req.ProductSecret == "":
		gizwitsError(w, http.StatusBadRequest, 5002, "form invalid")
	case req.EnterpriseID != g.cfg.EnterpriseID:
		gizwitsError(w, http.StatusNotFound, 5003, "enterprise id not exist")
	case req.EnterpriseSecret != g.cfg.EnterpriseSecret:
		gizwitsError(w, http.StatusBadRequest, 5004, "enterprise secret error")
	case !known:
		gizwitsError(w, http.StatusNotFound, 5015, "Product key not exist!")
	case req.ProductSecret != p.Secret:
		gizwitsError(w, http.StatusBadRequest, 5005, "product secret error")
	default:
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		value := hex.EncodeToString(b)
		exp := g.now().Add(g.cfg.TokenTTL)
		g.mu.Lock()
		g.tokens[value] = gizwitsToken{productKey: pk, expires: exp}
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"token": value, "expired_at": exp.Unix()})
	}
}

// authorise checks "Authorization: token <value>" against the product of
// the path, answering the API's error when it does not hold.
func (g *GizwitsAPI) authorise(w http.ResponseWriter, r *http.Request) (string, bool) {
	pk := r.PathValue("product_key")
	value, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	if !ok || value == "" {
		gizwitsError(w, http.StatusBadRequest, 5009, "token invalid")
		return "", false
	}
	g.mu.Lock()
	t, known := g.tokens[value]
	g.mu.Unlock()
	switch {
	case !known:
		gizwitsError(w, http.StatusBadRequest, 5009, "token invalid")
	case t.productKey != pk:
		gizwitsError(w, http.StatusBadRequest, 5010, "token not match product_key")
	case !g.now().Before(t.expires):
		gizwitsError(w, http.StatusBadRequest, 5011, "token has expired")
	default:
		return pk, true
	}
	return "", false
}

func (g *GizwitsAPI) serveDatapoint(w http.ResponseWriter, r *http.Request) {
	pk, ok := g.authorise(w, r)
	if !ok {
		return
	}
	p := g.cfg.Products[pk]
	if len(p.Datapoint) == 0 {
		gizwitsError(w, http.StatusNotFound, 5402, "datapoint data not found!")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(p.Datapoint)
}

func (g *GizwitsAPI) serveControl(w http.ResponseWriter, r *http.Request) {
	pk, ok := g.authorise(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		Attrs map[string]json.RawMessage `json:"attrs"`
		Raw   json.RawMessage            `json:"raw"`
	}
	if err != nil || json.Unmarshal(body, &req) != nil {
		gizwitsError(w, http.StatusBadRequest, 5001, "body json invalid")
		return
	}
	if (req.Attrs == nil) == (req.Raw == nil) {
		gizwitsError(w, http.StatusBadRequest, 5002, "form invalid")
		return
	}
	var raw []byte
	if req.Raw != nil {
		if raw, err = rawBytes(req.Raw); err != nil {
			gizwitsError(w, http.StatusBadRequest, 5408, "raw data error!")
			return
		}
	}
	if g.cfg.Devices != nil {
		if err := g.cfg.Devices.Control(pk, r.PathValue("did"), req.Attrs, raw); err != nil {
			var ref *GizwitsRefusal
			if errors.As(err, &ref) {
				gizwitsError(w, ref.Status, ref.Code, ref.Message)
			} else {
				gizwitsError(w, http.StatusInternalServerError, 5409, "call innerapi failed!")
			}
			return
		}
	}
	g.mu.Lock()
	g.seq++
	g.controls = append(g.controls, GizwitsControl{Seq: g.seq, ProductKey: pk, DID: r.PathValue("did"), Body: body, Received: g.now()})
	g.mu.Unlock()
	g.log.Info().Str("product_key", pk).Str("did", r.PathValue("did")).Msg("control accepted")
	w.WriteHeader(http.StatusOK)
}

// rawBytes reads a pass-through body's "raw": a decimal byte array, the
// API's default form.
func rawBytes(b json.RawMessage) ([]byte, error) {
	var arr []int
	if err := json.Unmarshal(b, &arr); err != nil {
		return nil, err
	}
	out := make([]byte, len(arr))
	for i, v := range arr {
		if v < 0 || v > 255 {
			return nil, errors.New("raw: byte out of range")
		}
		out[i] = byte(v)
	}
	return out, nil
}
