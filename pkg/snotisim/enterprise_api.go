package snotisim

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

// EnterpriseProduct is one product the Enterprise API emulator knows.
type EnterpriseProduct struct {
	// Secret is the product secret a token request must carry.
	Secret string
	// Datapoint is what GET …/datapoint answers: a data-point definition.
	Datapoint []byte
}

// EnterpriseAPIConfig configures the Gizwits Enterprise API emulator.
type EnterpriseAPIConfig struct {
	EnterpriseID     string
	EnterpriseSecret string
	Products         map[string]EnterpriseProduct
	// TokenTTL is a token's life (default seven days, as the API's).
	TokenTTL time.Duration
	// Devices, when set, applies accepted control calls to virtual devices
	// and may refuse them (an offline device); nil accepts every call.
	Devices EnterpriseDevices
}

// EnterpriseDevices is what the emulator's control call drives: attrs is the
// "attrs" object of a data-point control, raw the bytes of a pass-through
// one (exactly one is set).
type EnterpriseDevices interface {
	Control(productKey, did string, attrs map[string]json.RawMessage, raw []byte) error
}

// EnterpriseRefusal is an error a EnterpriseDevices returns to make the control
// call fail as the API would, e.g. {400, 5305, "device offline!"}.
type EnterpriseRefusal struct {
	Status, Code int
	Message      string
}

func (r *EnterpriseRefusal) Error() string { return r.Message }

// EnterpriseControl is one control call the emulator accepted.
type EnterpriseControl struct {
	Seq        int64           `json:"seq"`
	ProductKey string          `json:"product_key"`
	DID        string          `json:"did"`
	Body       json.RawMessage `json:"body"`
	Received   time.Time       `json:"received"`
}

// EnterpriseAPI emulates the calls of the Gizwits Enterprise API that
// snotibridge makes, beside the SNoti server of the same simulated cloud (shared/reference/gizwits-enterprise-api.md): the
// per-product token, the data-point definition and remote control. It
// checks the credentials and the "Authorization: token <value>" header as
// the API documents and answers errors in its shape: an HTTP status and
// {"error_code","error_message","detail_message"}.
type EnterpriseAPI struct {
	cfg EnterpriseAPIConfig
	log zerolog.Logger

	mu       sync.Mutex
	tokens   map[string]enterpriseToken // token value → its product and expiry
	controls []EnterpriseControl
	seq      int64
	now      func() time.Time
}

type enterpriseToken struct {
	productKey string
	expires    time.Time
}

// NewEnterpriseAPI validates cfg and returns the emulator.
func NewEnterpriseAPI(cfg EnterpriseAPIConfig, log zerolog.Logger) (*EnterpriseAPI, error) {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 7 * 24 * time.Hour
	}
	if cfg.EnterpriseID == "" || cfg.EnterpriseSecret == "" {
		return nil, errors.New("Enterprise API emulator: EnterpriseID and EnterpriseSecret are required")
	}
	return &EnterpriseAPI{
		cfg: cfg, log: log.With().Str("emulator", "enterprise-api").Logger(),
		tokens: map[string]enterpriseToken{}, now: time.Now,
	}, nil
}

// Register adds the API's routes to mux.
func (g *EnterpriseAPI) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/products/{product_key}/access_token", g.serveToken)
	mux.HandleFunc("GET /v1/products/{product_key}/datapoint", g.serveDatapoint)
	mux.HandleFunc("POST /v1/products/{product_key}/devices/{did}/control", g.serveControl)
}

// Controls returns every accepted control call in order.
func (g *EnterpriseAPI) Controls() []EnterpriseControl {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]EnterpriseControl(nil), g.controls...)
}

// ExpireTokens makes every issued token expired, as after seven days.
func (g *EnterpriseAPI) ExpireTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for v, t := range g.tokens {
		t.expires = time.Time{}
		g.tokens[v] = t
	}
}

func enterpriseError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"error_code": code, "error_message": msg, "detail_message": nil})
}

func (g *EnterpriseAPI) serveToken(w http.ResponseWriter, r *http.Request) {
	pk := r.PathValue("product_key")
	var req struct {
		EnterpriseID     string `json:"enterprise_id"`
		EnterpriseSecret string `json:"enterprise_secret"`
		ProductSecret    string `json:"product_secret"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		enterpriseError(w, http.StatusBadRequest, 5001, "body json invalid")
		return
	}
	p, known := g.cfg.Products[pk]
	switch {
	case req.EnterpriseID == "" || req.EnterpriseSecret == "" || req.ProductSecret == "":
		enterpriseError(w, http.StatusBadRequest, 5002, "form invalid")
	case req.EnterpriseID != g.cfg.EnterpriseID:
		enterpriseError(w, http.StatusNotFound, 5003, "enterprise id not exist")
	case req.EnterpriseSecret != g.cfg.EnterpriseSecret:
		enterpriseError(w, http.StatusBadRequest, 5004, "enterprise secret error")
	case !known:
		enterpriseError(w, http.StatusNotFound, 5015, "Product key not exist!")
	case req.ProductSecret != p.Secret:
		enterpriseError(w, http.StatusBadRequest, 5005, "product secret error")
	default:
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		value := hex.EncodeToString(b)
		exp := g.now().Add(g.cfg.TokenTTL)
		g.mu.Lock()
		g.tokens[value] = enterpriseToken{productKey: pk, expires: exp}
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"token": value, "expired_at": exp.Unix()})
	}
}

// authorise checks "Authorization: token <value>" against the product of
// the path, answering the API's error when it does not hold.
func (g *EnterpriseAPI) authorise(w http.ResponseWriter, r *http.Request) (string, bool) {
	pk := r.PathValue("product_key")
	value, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	if !ok || value == "" {
		enterpriseError(w, http.StatusBadRequest, 5009, "token invalid")
		return "", false
	}
	g.mu.Lock()
	t, known := g.tokens[value]
	g.mu.Unlock()
	switch {
	case !known:
		enterpriseError(w, http.StatusBadRequest, 5009, "token invalid")
	case t.productKey != pk:
		enterpriseError(w, http.StatusBadRequest, 5010, "token not match product_key")
	case !g.now().Before(t.expires):
		enterpriseError(w, http.StatusBadRequest, 5011, "token has expired")
	default:
		return pk, true
	}
	return "", false
}

func (g *EnterpriseAPI) serveDatapoint(w http.ResponseWriter, r *http.Request) {
	pk, ok := g.authorise(w, r)
	if !ok {
		return
	}
	p := g.cfg.Products[pk]
	if len(p.Datapoint) == 0 {
		enterpriseError(w, http.StatusNotFound, 5402, "datapoint data not found!")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(p.Datapoint)
}

func (g *EnterpriseAPI) serveControl(w http.ResponseWriter, r *http.Request) {
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
		enterpriseError(w, http.StatusBadRequest, 5001, "body json invalid")
		return
	}
	if (req.Attrs == nil) == (req.Raw == nil) {
		enterpriseError(w, http.StatusBadRequest, 5002, "form invalid")
		return
	}
	var raw []byte
	if req.Raw != nil {
		if raw, err = binaryOf(req.Raw, "hex"); err != nil {
			enterpriseError(w, http.StatusBadRequest, 5408, "raw data error!")
			return
		}
	}
	if g.cfg.Devices != nil {
		if err := g.cfg.Devices.Control(pk, r.PathValue("did"), req.Attrs, raw); err != nil {
			var ref *EnterpriseRefusal
			if errors.As(err, &ref) {
				enterpriseError(w, ref.Status, ref.Code, ref.Message)
			} else {
				enterpriseError(w, http.StatusInternalServerError, 5409, "call innerapi failed!")
			}
			return
		}
	}
	g.mu.Lock()
	g.seq++
	g.controls = append(g.controls, EnterpriseControl{Seq: g.seq, ProductKey: pk, DID: r.PathValue("did"), Body: body, Received: g.now()})
	g.mu.Unlock()
	g.log.Info().Str("product_key", pk).Str("did", r.PathValue("did")).Msg("control accepted")
	w.WriteHeader(http.StatusOK)
}

// EnterpriseProducts lists the simulator's products for an EnterpriseAPI:
// each with secret as its product secret and its data-point definition as
// the datapoint call's answer.
func (s *Server) EnterpriseProducts(secret string) map[string]EnterpriseProduct {
	out := make(map[string]EnterpriseProduct, len(s.products))
	for pk, p := range s.products {
		def := p.Definition
		if def == nil {
			def = defaultDefinition
		}
		out[pk] = EnterpriseProduct{Secret: secret, Datapoint: def}
	}
	return out
}

// Control implements EnterpriseDevices for the simulator's virtual
// devices, with the checks of SNoti's remote control: the product's
// writable data points, and an online device (commands are not queued). An
// accepted write_attrs is applied to the device, whose next status push
// shows it.
func (s *Server) Control(productKey, did string, attrs map[string]json.RawMessage, raw []byte) error {
	p := s.products[productKey]
	if p == nil {
		return &EnterpriseRefusal{Status: http.StatusNotFound, Code: 5025, Message: "product does not exist"}
	}
	var values map[string]any
	if attrs != nil {
		var err error
		if values, err = attrValues(p.def, attrs, "hex"); err != nil {
			return &EnterpriseRefusal{Status: http.StatusBadRequest, Code: 5401, Message: "attr invalid! " + err.Error()}
		}
	} else if len(raw) == 0 {
		return &EnterpriseRefusal{Status: http.StatusBadRequest, Code: 5408, Message: "raw data error!"}
	}
	online, known := s.b.isOnline(did)
	switch {
	case !known:
		return &EnterpriseRefusal{Status: http.StatusNotFound, Code: 5301, Message: "device not exist"}
	case !online:
		return &EnterpriseRefusal{Status: http.StatusBadRequest, Code: 5305, Message: "device offline!"}
	}
	s.b.note(func(sum *Summary) { sum.RemoteWrites++ })
	if values != nil && s.fleet != nil {
		s.fleet.write(did, values)
	}
	return nil
}
