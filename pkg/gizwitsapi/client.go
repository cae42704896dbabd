package gizwitsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// maxBody bounds what the client reads of any answer: a data-point
// definition is a few tens of KB.
const maxBody = 8 << 20

// Client calls the Enterprise API. It is safe for concurrent use.
type Client struct {
	cfg Config

	mu     sync.Mutex
	tokens map[string]token // product_key → cached token
}

type token struct {
	value   string
	expires time.Time
}

// New validates cfg, applies defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.loadCA(); err != nil {
		return nil, fmt.Errorf("validating Gizwits Enterprise API config: %w", err)
	}
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("validating Gizwits Enterprise API config: %w", err)
	}
	return &Client{cfg: cfg, tokens: map[string]token{}}, nil
}

// Datapoint returns the product's data-point definition as the API sent it
// (GET /v1/products/{product_key}/datapoint): the JSON family of the
// console export, which package gizwits parses.
func (c *Client) Datapoint(ctx context.Context, productKey string) ([]byte, error) {
	body, err := c.call(ctx, http.MethodGet, productKey, "/datapoint", nil)
	if err != nil {
		return nil, fmt.Errorf("fetching the data points of product %s: %w", productKey, err)
	}
	return body, nil
}

// Control is a remote-control request (POST
// /v1/products/{product_key}/devices/{did}/control): Attrs for data-point
// products, or Raw bytes for pass-through, sent as a decimal byte array.
type Control struct {
	Attrs map[string]any
	Raw   []byte
}

// MarshalJSON writes the documented body: {"attrs":{…}} or {"raw":[…]}.
func (c Control) MarshalJSON() ([]byte, error) {
	if c.Attrs != nil {
		return json.Marshal(struct {
			Attrs map[string]any `json:"attrs"`
		}{c.Attrs})
	}
	raw := make([]int, len(c.Raw))
	for i, b := range c.Raw {
		raw[i] = int(b)
	}
	return json.Marshal(struct {
		Raw []int `json:"raw"`
	}{raw})
}

// Control sends one command to a device and returns once the API accepted
// it (it answers with no body). Commands to offline devices are not queued
// by Gizwits: the error then has code CodeDeviceOffline.
func (c *Client) Control(ctx context.Context, productKey, did string, cmd Control) error {
	if (cmd.Attrs == nil) == (cmd.Raw == nil) {
		return errors.New("control: exactly one of Attrs and Raw must be set")
	}
	body, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("encoding control of device %s: %w", did, err)
	}
	if _, err := c.call(ctx, http.MethodPost, productKey, "/devices/"+url.PathEscape(did)+"/control", body); err != nil {
		return fmt.Errorf("controlling device %s of product %s: %w", did, productKey, err)
	}
	return nil
}

// call sends an authorised request, buying a token first if needed and once
// more if the API rejected the cached one.
func (c *Client) call(ctx context.Context, method, productKey, path string, body []byte) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, productKey)
		if err != nil {
			return nil, err
		}
		out, err := c.do(ctx, method, "/v1/products/"+url.PathEscape(productKey)+path, body, "token "+tok)
		if err != nil && attempt == 0 && tokenRejected(err) {
			c.forget(productKey, tok)
			continue
		}
		return out, err
	}
}

// token returns a cached token of the product, or buys one.
func (c *Client) token(ctx context.Context, productKey string) (string, error) {
	secret, ok := c.cfg.ProductSecrets[productKey]
	if !ok {
		return "", fmt.Errorf("product %s has no product secret configured", productKey)
	}
	c.mu.Lock()
	t, ok := c.tokens[productKey]
	c.mu.Unlock()
	if ok && c.cfg.Now().Add(c.cfg.RenewBefore).Before(t.expires) {
		return t.value, nil
	}
	req, _ := json.Marshal(map[string]string{
		"enterprise_id": c.cfg.EnterpriseID, "enterprise_secret": c.cfg.EnterpriseSecret, "product_secret": secret,
	})
	out, err := c.do(ctx, http.MethodPost, "/v1/products/"+url.PathEscape(productKey)+"/access_token", req, "")
	if err != nil {
		return "", fmt.Errorf("getting an access token for product %s: %w", productKey, err)
	}
	var res struct {
		Token     string `json:"token"`
		ExpiredAt int64  `json:"expired_at"`
		ExpireAt  int64  `json:"expire_at"` // the doc's parameter table spells it so
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Token == "" {
		return "", fmt.Errorf("getting an access token for product %s: answer without a token: %.200q", productKey, out)
	}
	exp := res.ExpiredAt
	if exp == 0 {
		exp = res.ExpireAt
	}
	t = token{value: res.Token, expires: time.Unix(exp, 0)}
	if exp == 0 {
		t.expires = c.cfg.Now().Add(c.cfg.RenewBefore + time.Minute) // no expiry given: reuse it briefly
	}
	c.mu.Lock()
	c.tokens[productKey] = t
	c.mu.Unlock()
	return t.value, nil
}

func (c *Client) forget(productKey, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens[productKey].value == value {
		delete(c.tokens, productKey)
	}
}

// do sends one request and returns the body of a 2xx answer, or an
// *APIError.
func (c *Client) do(ctx context.Context, method, path string, body []byte, auth string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return out, nil
	}
	ae := &APIError{Status: resp.StatusCode}
	var eb struct {
		ErrorCode    int    `json:"error_code"`
		ErrorMessage string `json:"error_message"`
		Detail       string `json:"detail_message"`
	}
	if json.Unmarshal(out, &eb) == nil {
		ae.Code, ae.Message = eb.ErrorCode, eb.ErrorMessage
	}
	if resp.StatusCode/100 == 3 {
		ae.Message = "redirect to " + resp.Header.Get("Location") + " not followed"
	} else if ae.Message == "" {
		ae.Message = fmt.Sprintf("%.200s", out)
	}
	return nil, ae
}
