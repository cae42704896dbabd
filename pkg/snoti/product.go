package snoti

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Product is one v2 subscription: the credentials of a product, the subkey
// naming its queue (clients sharing product_key+subkey share the queue
// round-robin) and the events to receive, by subscription name
// (device.online, device.status.raw, …; see Subscriptions).
type Product struct {
	ProductKey string   `json:"product_key"`
	AuthID     string   `json:"auth_id,omitempty"`
	AuthSecret string   `json:"auth_secret,omitempty"`
	Subkey     string   `json:"subkey"`
	Events     []string `json:"events"`
}

// maxSubkeysPerProduct is SNoti's limit of queues per product.
const maxSubkeysPerProduct = 5

var subkeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// LoadProducts reads a JSON array of Product from path and validates it.
// Errors name Config.ProductsFile, the entry and the field, e.g.
// `ProductsFile="products.json": products[1].subkey="a-b": must be 1-32 of [A-Za-z0-9_]`.
func LoadProducts(path string) ([]Product, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fielderr.Wrap("ProductsFile", path, fmt.Errorf("reading: %w", err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ps []Product
	if err := dec.Decode(&ps); err != nil {
		return nil, fielderr.Wrap("ProductsFile", path, fmt.Errorf("must be a JSON array of {product_key, auth_id, auth_secret, subkey, events}: %w", err))
	}
	if err := ValidateProducts(ps); err != nil {
		return nil, fielderr.Wrap("ProductsFile", path, err)
	}
	return ps, nil
}

// ValidateProducts reports every problem of a product list at once.
func ValidateProducts(ps []Product) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(ps) == 0 {
		bad("products: empty: list at least one product")
	}
	subkeys := map[string][]string{}
	for i, p := range ps {
		if p.ProductKey == "" {
			bad("products[%d].product_key is empty: set the product key from the Gizwits console", i)
		}
		if p.AuthID == "" {
			bad("products[%d].auth_id is empty: set the SNoti auth id of product %q", i, p.ProductKey)
		}
		if p.AuthSecret == "" {
			bad("products[%d].auth_secret is empty: set the SNoti auth secret of product %q", i, p.ProductKey)
		}
		if !subkeyPattern.MatchString(p.Subkey) {
			bad("products[%d].subkey=%q: must be 1-32 of [A-Za-z0-9_]", i, p.Subkey)
		}
		if !slices.Contains(subkeys[p.ProductKey], p.Subkey) {
			subkeys[p.ProductKey] = append(subkeys[p.ProductKey], p.Subkey)
		}
		if len(p.Events) == 0 {
			bad("products[%d].events is empty: list subscriptions such as device.online, device.status.raw", i)
		}
		for j, e := range p.Events {
			if _, ok := subscriptionEventTypes[e]; !ok {
				bad("products[%d].events[%d]=%q: unknown subscription, use one of %s", i, j, e, strings.Join(Subscriptions(), ", "))
			}
		}
	}
	for pk, sks := range subkeys {
		if len(sks) > maxSubkeysPerProduct {
			bad("products: product_key %q has %d subkeys: SNoti allows at most %d", pk, len(sks), maxSubkeysPerProduct)
		}
	}
	return errors.Join(errs...)
}
